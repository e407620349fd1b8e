/** Exit statuses shared by every command, so CI scripts can tell findings from mistakes. */
export const EXIT_OK = 0;
/** A finding reached --fail-on. */
export const EXIT_FINDINGS = 1;
/** Bad usage, unreadable or invalid input, bad config. */
export const EXIT_USAGE = 2;
