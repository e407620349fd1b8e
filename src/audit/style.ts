import { styleText } from 'node:util';

export type StyleFormat = Parameters<typeof styleText>[0];
/** Applies a terminal style, or returns the text untouched when colour is off. */
export type Style = (format: StyleFormat, text: string) => string;

/**
 * Colour only for a person at a terminal: never in pipes, files or CI logs, and never
 * when NO_COLOR is set to anything but the empty string (https://no-color.org).
 */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColor = env.NO_COLOR;
  return stream.isTTY === true && (noColor === undefined || noColor === '');
}

export function styler(color: boolean): Style {
  if (!color) return (_format, text) => text;
  // The caller already decided; styleText's own stream check would look at stdout again.
  return (format, text) => styleText(format, text, { validateStream: false });
}

export function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
}
