// Waiting for what a test cannot await directly: a file watcher, a child process, a watch stream
// on the fake API server. One loop, so that every wait has a deadline and says what never happened.
export interface PollOptions {
  /** Give up after this long. */
  timeoutMs?: number;
  /** Pause between probes. */
  intervalMs?: number;
}

/** Calls `probe` until it returns something other than undefined, and returns that; throws naming `what` once `timeoutMs` has passed. */
export async function pollUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: PollOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 25 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Polls `check` until it returns true. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, options: PollOptions = {}): Promise<void> {
  await pollUntil(what, async () => ((await check()) ? true : undefined), options);
}

/** waitUntil without a name (reload tests wait for file watchers this way). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  await waitUntil('a condition to hold', check, { timeoutMs });
}
