let guarded = false;

/**
 * Writes a report to stdout. A reader that stops early (`| head`) closes the pipe: that is
 * the reader's choice, not a crash, so EPIPE is ignored and the exit status stays the verdict.
 */
export function writeStdout(text: string): void {
  if (!guarded) {
    guarded = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  process.stdout.write(text);
}
