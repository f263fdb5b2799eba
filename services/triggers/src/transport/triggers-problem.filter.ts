import { errorStatus, problemFilter, problemMapper } from '@weft/platform';
import { TriggersError } from '../domain/triggers.errors';
import { ScheduleError } from '../domain/schedule.util';

export const toProblem = problemMapper(
  [
    errorStatus(TriggersError, { TRIGGER_NOT_FOUND: 404, INVALID_REQUEST: 400, NOT_SUPPORTED: 409, WEBHOOK_REFUSED: 401 }),
    errorStatus(ScheduleError, 422),
  ],
  'the triggers service failed to answer; see its logs',
);

/** Every error of the triggers controllers as `application/problem+json`. */
export const triggersProblemFilter = problemFilter('triggers', toProblem);
