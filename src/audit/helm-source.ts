// `helm template` starts every document with `# Source: chart/templates/file.yaml`. A finding in
// document 60 of a piped stream is found again by that name, not by counting documents.

const MARKER = /^---(?:[ \t]|$)/;
const SOURCE = /^# Source: (.+?)[ \t]*$/;
const CONTENT = /^[ \t]*[^\s#]/;

/**
 * The template each document of `text` was rendered from (undefined where a document has no
 * `# Source:` comment), or undefined when the text has none at all, or when this line scan
 * splits the documents otherwise than the parser did (`expected` documents): a name on the
 * wrong document would be worse than none.
 */
export function helmTemplates(text: string, expected: number): (string | undefined)[] | undefined {
  if (!text.includes('# Source: ')) return undefined;
  const names: (string | undefined)[] = [];
  let current: string | undefined;
  // A document starts at a `---` marker, except the first marker when nothing but comments came before it.
  let open = false;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end === -1 ? text.length : end);
    if (MARKER.test(line)) {
      if (open) {
        names.push(current);
        current = undefined;
      }
      open = true;
      // `--- {a: 1}`: content on the marker's own line opens nothing more.
    } else {
      const source = SOURCE.exec(line);
      if (source) current ??= source[1];
      else if (CONTENT.test(line)) open = true;
    }
    if (end === -1) break;
    start = end + 1;
  }
  if (open) names.push(current);
  return names.length === expected ? names : undefined;
}
