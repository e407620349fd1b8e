// A fast path for reading manifests: js-yaml reads the common YAML of Kubernetes manifests about
// five times faster than the `yaml` library, which remains the reference. This module answers
// only when it is sure to give exactly what `yaml` would (same values, same number of
// documents); for anything else (an error, a warning, or a construct where the two libraries
// differ) it declines and the caller uses `yaml`, so every result and every error message is
// the reference's. test/audit/fast-yaml.test.ts holds the two to the same results.
import jsyaml from 'js-yaml';

// YAML 1.1 scalars as kubectl reads them (go-yaml v2), exactly as the `yaml` library resolves
// them with the reference's options (documents.ts, KUBECTL_YAML: its 1.1 schema without the
// time types): same patterns, same order, same conversions.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const TRUE = /^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const FALSE = /^(?:N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
const INT_BIN = /^[-+]?0b[0-1_]+$/;
const INT_OCT = /^[-+]?0[0-7_]+$/;
const INT = /^[-+]?[0-9][0-9_]*$/;
const INT_HEX = /^[-+]?0x[0-9a-fA-F_]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
// `yaml`'s 1.1 floats with one change, made in the reference too: a float has a digit, so `.`
// and `e5` stay strings, as in go-yaml v2 (whose float parser refuses them).
export const FLOAT_EXP = /^[-+]?(?=\.?[0-9])(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/;
export const FLOAT = /^[-+]?(?=\.?[0-9])(?:[0-9][0-9_]*)?\.[0-9_]*$/;

/** `yaml`'s intResolve: a sign, a prefix of `offset` characters, underscores ignored. */
function int(data: string, offset: number, radix: number): number {
  const sign = data[0];
  const digits = data.substring(sign === '-' || sign === '+' ? offset + 1 : offset).replace(/_/g, '');
  const n = parseInt(digits, radix);
  return sign === '-' ? -1 * n : n;
}

const coreNull = new jsyaml.Type('tag:yaml.org,2002:null', {
  kind: 'scalar',
  resolve: (data: string) => NULL.test(data),
  construct: () => null,
});
const coreBool = new jsyaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string) => TRUE.test(data) || FALSE.test(data),
  construct: (data: string) => TRUE.test(data),
});
const coreInt = new jsyaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string) => INT_BIN.test(data) || INT_OCT.test(data) || INT.test(data) || INT_HEX.test(data),
  construct: (data: string) =>
    INT_BIN.test(data) ? int(data, 2, 2) : INT_OCT.test(data) ? int(data, 1, 8) : INT.test(data) ? int(data, 0, 10) : int(data, 2, 16),
});
const coreFloat = new jsyaml.Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (data: string) => FLOAT_NAN.test(data) || FLOAT_EXP.test(data) || FLOAT.test(data),
  construct: (data: string) =>
    FLOAT_NAN.test(data)
      ? data.slice(-3).toLowerCase() === 'nan'
        ? NaN
        : data[0] === '-'
          ? Number.NEGATIVE_INFINITY
          : Number.POSITIVE_INFINITY
      : parseFloat(data.replace(/_/g, '')),
});

/** Strings, sequences and mappings, plus the scalars above: no timestamps, no binary; merge keys are declined below. */
const SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({ implicit: [coreNull, coreBool, coreInt, coreFloat] });

/**
 * Text the fast path leaves to `yaml`, because the two libraries read it differently, or
 * because `yaml` reports an error there that js-yaml lets pass. Found by comparing both on
 * generated and mutated manifests (test/audit/fast-yaml.test.ts keeps one case for each).
 * Each pattern errs on the side of declining: a false match only costs speed.
 */
const DECLINE: readonly RegExp[] = [
  // anchors, aliases and tags: `yaml` limits alias expansion (an alias bomb is an error
  // there, not a shared object) and resolves tags its own way
  /(?:^|[\s[{,:])[&*!]/,
  // directives: `%YAML 1.2` switches `yaml` to YAML 1.2 (yes/no are strings there)
  /^%/m,
  // merge keys (`<<: {...}`): `yaml` merges them, js-yaml's schema here has no merge type
  /<</,
  // explicit keys (`? a`) and collections as keys (`[a, b]: c`, `{[a]}`): named otherwise
  /(?:^|[\s[{,])\?(?:\s|$)/,
  /[\]}][ ]*:/,
  /[{,]\s*\[/,
  // tabs, line breaks other than \n, and the byte-order mark
  /[\t\r\u0085\u2028\u2029\uFEFF]/,
  // a comment touching the token before it (`"x"#c`): an error in `yaml` only
  /["'[\]{},:]#/,
  // an empty sequence entry (`-` at the end of a line): js-yaml may nest what follows wrongly
  /^[ ]*(?:-[ ]+)*-[ ]*(?:#.*)?$/m,
  // block scalars with an indentation indicator (`|2`) or starting with blank lines
  /[|>](?:[1-9][-+]?|[-+][1-9])/,
  /[|>][-+]?(?:[ ]+#.*)?\n[ ]*(?:\n|$)/,
  // text on the line of a document marker (`---x` is a scalar for `yaml`, a marker for js-yaml)
  /^(?:---|\.\.\.)(?!(?:[ ]*|[ ]+#.*)$)/m,
  // \U escapes: js-yaml accepts code points `yaml` refuses
  /\\U/,
];

/** A line of 1024 characters or more, where `yaml` refuses an implicit key (faster than a regular expression). */
function hasLongLine(text: string): boolean {
  for (let start = 0; ; ) {
    const end = text.indexOf('\n', start);
    if ((end === -1 ? text.length : end) - start >= 1024) return true;
    if (end === -1) return false;
    start = end + 1;
  }
}

/**
 * Keys that js-yaml names otherwise than `yaml`: a null key (`~: x`, '' in `yaml`) and a
 * mapping as a key (`{{ .Values.x }}`, `{ .Values.x }` in `yaml`).
 */
function hasStrangeKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasStrangeKey);
  for (const key of Object.keys(value)) {
    if (key === 'null' || key === '[object Object]' || hasStrangeKey((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/**
 * The documents of `text` as `yaml`'s `parseAllDocuments(text).map((d) => d.toJS())` would
 * give them, or undefined when the fast path declines (the caller then uses `yaml`, which
 * also reports every error). A `listener` sees js-yaml's node events (fast-positions.ts).
 */
export function fastDocuments(text: string, listener?: jsyaml.LoadOptions['listener']): unknown[] | undefined {
  if (hasLongLine(text) || DECLINE.some((pattern) => pattern.test(text))) return undefined;
  let warned = false;
  let documents: unknown[];
  try {
    documents = jsyaml.loadAll(text, undefined, {
      schema: SCHEMA,
      ...(listener ? { listener } : {}),
      onWarning: () => {
        warned = true;
      },
    });
  } catch {
    return undefined;
  }
  if (warned || documents.some(hasStrangeKey)) return undefined;
  return documents;
}
