import { WeftError } from '@weft/contracts';

/** Why `weft history` / `weft insights` could not answer; each maps to an exit code. */
export type InsightsCliErrorCode =
  /** The run, or its checkpoint, is not in the journal. */
  | 'NOT_FOUND'
  /** A flag is malformed (bad --since, bad --api URL). */
  | 'INVALID'
  /** Embedded mode, and there is no database to read (never ran `weft dev`, or memory://). */
  | 'NO_EMBEDDED_DATA'
  /** --api does not answer. */
  | 'API_UNREACHABLE'
  /** The API answered with a server error. */
  | 'API_ERROR';

export class InsightsCliError extends WeftError<InsightsCliErrorCode> {}
