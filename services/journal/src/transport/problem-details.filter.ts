import { Catch } from '@nestjs/common';
import { codedErrorProblems, consoleProblemLogger, type ProblemDocument, ProblemDetailsFilter } from '@weft/platform';
import { JournalError } from '../domain/journal.errors';

export type ProblemDetails = ProblemDocument;

export const toProblem = codedErrorProblems(
  JournalError,
  { RUN_NOT_FOUND: 404, CHECKPOINT_NOT_FOUND: 404, INVALID_QUERY: 400, INVALID_EVENT: 422, STORE_CLOSED: 503 },
  'the journal failed to answer; see its logs',
);

/** Every error of the journal's controllers as `application/problem+json`. */
@Catch()
export class JournalProblemFilter extends ProblemDetailsFilter {
  constructor() {
    super({ toProblem, log: consoleProblemLogger('journal') });
  }
}
