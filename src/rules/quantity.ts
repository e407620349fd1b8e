// Kubernetes resource quantities for CEL rules (`quantity('500m')`), as the API server's CEL
// library offers them (k8s.io/apiserver/pkg/cel/library/quantity.go). Values are exact: a decimal
// numerator over a power of ten, so `quantity('0.1').add(quantity('0.2'))` is exactly 300m.

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
const BINARY: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** The API server refuses exponents this large; so do we, before building huge integers. */
const MAX_EXPONENT = 1000;

export class Quantity {
  /** value = numerator / 10^scale */
  private constructor(
    readonly numerator: bigint,
    readonly scale: number,
    readonly text: string,
  ) {}

  static parse(text: string): Quantity | undefined {
    const match = QUANTITY.exec(text);
    if (!match) return undefined;
    const [, number = '', suffix = ''] = match;
    const [whole = '', fraction = ''] = number.replace(/^[+-]/, '').split('.');
    let numerator = BigInt(`${whole}${fraction}` || '0');
    if (number.startsWith('-')) numerator = -numerator;
    let scale = fraction.length;
    if (Object.hasOwn(BINARY, suffix)) numerator *= 2n ** BigInt(BINARY[suffix] ?? 0);
    else if (Object.hasOwn(DECIMAL, suffix)) scale -= DECIMAL[suffix] ?? 0;
    else if (suffix !== '') {
      const exponent = Number(suffix.slice(1));
      if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
      scale -= exponent;
    }
    if (scale < 0) {
      numerator *= 10n ** BigInt(-scale);
      scale = 0;
    }
    return new Quantity(numerator, scale, text);
  }

  static of(numerator: bigint, scale: number): Quantity {
    return new Quantity(numerator, scale, scale === 0 ? String(numerator) : `${Number(numerator) / 10 ** scale}`);
  }

  private aligned(other: Quantity): [bigint, bigint, number] {
    const scale = Math.max(this.scale, other.scale);
    return [this.numerator * 10n ** BigInt(scale - this.scale), other.numerator * 10n ** BigInt(scale - other.scale), scale];
  }

  compareTo(other: Quantity): number {
    const [a, b] = this.aligned(other);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  add(other: Quantity): Quantity {
    const [a, b, scale] = this.aligned(other);
    return Quantity.of(a + b, scale);
  }

  sub(other: Quantity): Quantity {
    const [a, b, scale] = this.aligned(other);
    return Quantity.of(a - b, scale);
  }

  sign(): number {
    return this.numerator < 0n ? -1 : this.numerator > 0n ? 1 : 0;
  }

  isInteger(): boolean {
    return this.numerator % 10n ** BigInt(this.scale) === 0n;
  }

  /** The integer value, or undefined when it has a fraction or does not fit in an int64. */
  asInteger(): bigint | undefined {
    if (!this.isInteger()) return undefined;
    const value = this.numerator / 10n ** BigInt(this.scale);
    return value >= -(2n ** 63n) && value < 2n ** 63n ? value : undefined;
  }

  asApproximateFloat(): number {
    return Number(this.numerator) / 10 ** this.scale;
  }

  toString(): string {
    return this.text;
  }
}
