import { WeftError } from '@weft/contracts';

export const DagErrorCode = {
  Cycle: 'DAG_CYCLE',
  UnknownStep: 'DAG_UNKNOWN_STEP',
  DuplicateStep: 'DAG_DUPLICATE_STEP',
} as const;
export type DagErrorCode = (typeof DagErrorCode)[keyof typeof DagErrorCode];

/** A graph the strict DAG functions refuse; specs that passed validateSpec never raise it. */
export class DagError extends WeftError<DagErrorCode> {
  constructor(
    code: DagErrorCode,
    message: string,
    /** For DAG_CYCLE: the steps of one cycle in execution order (each needs the one before it). */
    readonly cycle?: string[],
  ) {
    super(code, message);
  }
}
