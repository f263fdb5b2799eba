/** `weft` exit codes: scripts depend on them. */
export const EXIT = {
  ok: 0,
  /** The run ended failed, partially_completed or canceled. */
  runFailed: 1,
  /** The workflow, its inputs or the command line are invalid. */
  invalid: 2,
  /** Weft itself broke. */
  internal: 70,
} as const;
