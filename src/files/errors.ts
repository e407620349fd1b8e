// Why a file could not be read or written, in the words `ls` or `cat` would use: "ENOENT"
// means nothing to most people who mistype a path.
const WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EEXIST: 'already exists',
  EBUSY: 'resource busy',
};

/** A file-system error as words; anything else as its own message. */
export function describeFileError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const words = code === undefined ? undefined : WORDS[code];
  if (words !== undefined) return words;
  return err instanceof Error ? err.message : String(err);
}
