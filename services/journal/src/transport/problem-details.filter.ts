import { errorStatus, type ProblemDocument, problemFilter, problemMapper } from '@weft/platform';
import { JournalError } from '../domain/journal.errors';

export type ProblemDetails = ProblemDocument;

/** The journal's errors by code; the rest is the platform's one mapper. */
export const toProblem = problemMapper(
  [errorStatus(JournalError, { RUN_NOT_FOUND: 404, CHECKPOINT_NOT_FOUND: 404, INVALID_QUERY: 400, INVALID_EVENT: 422, STORE_CLOSED: 503 })],
  'the journal failed to answer; see its logs',
);

/** Every error of the journal's controllers as `application/problem+json`. */
export const journalProblemFilter = problemFilter('journal', toProblem);
