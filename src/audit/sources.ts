import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { describeFileError } from '../files/errors.js';
import { chartDirectoryMessage } from './chart-dir.js';

/** The text of one input, named the way the user gave it (`-` is `<stdin>`). */
export interface SourceText {
  source: string;
  text: string;
}

/** An input that could not be read or parsed, phrased for the user: where, then what. */
export interface InputProblem {
  source: string;
  /** 1-based document of a multi-document stream. */
  document?: number;
  line?: number;
  /** The chart template of the document, from helm's `# Source:` comment. */
  template?: string;
  message: string;
}

export const STDIN = '-';
export const STDIN_SOURCE = '<stdin>';
const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

function errorCode(err: unknown): string {
  return describeFileError(err);
}

function isManifestFile(name: string): boolean {
  const lower = name.toLowerCase();
  return MANIFEST_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/**
 * Manifest files under a directory, recursively, sorted so that output and exit status are
 * the same on every machine. Symlinked directories are not followed (they can loop).
 */
function manifestFiles(dir: string, problems: InputProblem[]): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    problems.push({ source: dir, message: `cannot read directory: ${errorCode(err)}` });
    return [];
  }
  const chart = chartDirectoryMessage(dir);
  if (chart !== undefined) {
    problems.push({ source: dir, message: chart });
    return [];
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      files.push(...manifestFiles(path, problems));
    } else if (isManifestFile(entry.name) && (entry.isFile() || isLinkToFile(path))) {
      files.push(path);
    }
  }
  return files;
}

function isLinkToFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readText(file: string, problems: InputProblem[]): SourceText | undefined {
  try {
    return { source: file, text: readFileSync(file, 'utf8') };
  } catch (err) {
    problems.push({ source: file, message: `cannot read file: ${errorCode(err)}` });
    return undefined;
  }
}

/**
 * Reads every PATH argument: a file (whatever its extension: the user named it), a
 * directory (its .yaml/.yml/.json files), or `-` for stdin. An unreadable path becomes a
 * problem and the others are still read.
 */
export async function readSources(
  paths: readonly string[],
  readStdin: () => Promise<string>,
): Promise<{ texts: SourceText[]; problems: InputProblem[] }> {
  const texts: SourceText[] = [];
  const problems: InputProblem[] = [];
  let stdinRead = false;
  for (const path of paths) {
    if (path === STDIN) {
      // stdin can only be drained once; a second `-` would silently read nothing.
      if (stdinRead) continue;
      stdinRead = true;
      texts.push({ source: STDIN_SOURCE, text: await readStdin() });
      continue;
    }
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (err) {
      problems.push({ source: path, message: `cannot read: ${errorCode(err)}` });
      continue;
    }
    const files = isDirectory ? manifestFiles(path, problems) : [path];
    for (const file of files) {
      const text = readText(file, problems);
      if (text) texts.push(text);
    }
  }
  return { texts, problems };
}

/** All of a stream, as UTF-8 text. */
export async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** `deploy.yaml: document 2 (line 14): message`, with only the parts that are known. */
export function formatProblem(problem: InputProblem): string {
  const where: string[] = [];
  if (problem.document !== undefined) where.push(`document ${problem.document}`);
  if (problem.template !== undefined) where.push(`(${problem.template})`);
  if (problem.line !== undefined) where.push(`(line ${problem.line})`);
  const position = where.length > 0 ? `: ${where.join(' ')}` : '';
  return `${problem.source}${position}: ${problem.message}`;
}
