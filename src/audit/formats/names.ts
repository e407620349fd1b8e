/** Every --format of the audit; the CI ones live in this directory and load only when asked for. */
export const FORMATS = ['table', 'json', 'sarif', 'junit', 'github', 'html'] as const;
export type ReportFormat = (typeof FORMATS)[number];
