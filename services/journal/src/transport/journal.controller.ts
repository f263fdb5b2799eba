import { Controller, Get, Inject, Param, Query, UseFilters } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import { JournalQueries } from '../domain/journal-queries.usecase';
import type { Checkpoint, EventPage, RunHistory, RunReconstruction } from '../domain/journal.types';
import { JOURNAL_CLOCK, type JournalClock } from '../ports/journal-clock.port';
import { JournalError } from '../domain/journal.errors';
import { journalProblemFilter } from './problem-details.filter';
import { needsNow, parseEventQuery, type RawQuery, refuseQuery } from './query-params.util';

/**
 * The journal's HTTP face under /v1: a run's history, events, checkpoints and
 * reconstruction; events across runs. Every answer is confined to the caller's
 * namespace (an API-key gate sets the caller; see JournalModule's `auth`).
 */
@Controller('v1')
@UseFilters(journalProblemFilter)
export class JournalController {
  constructor(
    @Inject(JournalQueries) private readonly queries: JournalQueries,
    @Inject(JOURNAL_CLOCK) private readonly clock: JournalClock,
  ) {}

  @Get('runs/:id/history')
  history(@CallerOf() caller: Caller, @Param('id') runId: string, @Query() raw: RawQuery): Promise<RunHistory> {
    refuseQuery(raw);
    return this.queries.history(pathId(runId, 'id'), caller.namespace);
  }

  @Get('runs/:id/events')
  async runEvents(@CallerOf() caller: Caller, @Param('id') runId: string, @Query() raw: RawQuery): Promise<EventPage> {
    return this.queries.runEvents(pathId(runId, 'id'), caller.namespace, parseEventQuery(raw, await this.now(raw), { workflow: false, runId: false }));
  }

  @Get('runs/:id/checkpoints')
  checkpoints(@CallerOf() caller: Caller, @Param('id') runId: string, @Query() raw: RawQuery): Promise<Checkpoint[]> {
    refuseQuery(raw);
    return this.queries.checkpoints(pathId(runId, 'id'), caller.namespace);
  }

  @Get('runs/:id/checkpoints/:stepId')
  checkpoint(@CallerOf() caller: Caller, @Param('id') runId: string, @Param('stepId') stepId: string, @Query() raw: RawQuery): Promise<Checkpoint> {
    refuseQuery(raw);
    return this.queries.checkpoint(pathId(runId, 'id'), pathId(stepId, 'stepId'), caller.namespace);
  }

  @Get('runs/:id/reconstruct')
  reconstruct(@CallerOf() caller: Caller, @Param('id') runId: string, @Query() raw: RawQuery): Promise<RunReconstruction> {
    refuseQuery(raw);
    return this.queries.reconstruct(pathId(runId, 'id'), caller.namespace);
  }

  /** Events across the caller's runs: `?workflow=&type=&since=&until=&runId=&limit=&after=`. */
  @Get('events')
  async events(@CallerOf() caller: Caller, @Query() raw: RawQuery): Promise<EventPage> {
    return this.queries.events(parseEventQuery(raw, await this.now(raw), { workflow: true, runId: true }), caller.namespace);
  }

  private async now(raw: RawQuery): Promise<number> {
    // Database time, as the events' own times are; asked only when the query is relative.
    return needsNow(raw) ? this.clock.now() : 0;
  }
}

/** Longest run or step id in a path, as the scheduler's routes allow (issue 12: every string has a maximum). */
export const MAX_PATH_ID_LENGTH = 200;

/** A path id within bounds, or INVALID_QUERY (400) naming the parameter: never a query with an unbounded key. */
function pathId(value: string, name: string): string {
  if (value.length === 0 || value.length > MAX_PATH_ID_LENGTH) throw new JournalError('INVALID_QUERY', `path.${name}: must be 1 to ${MAX_PATH_ID_LENGTH} characters (got ${value.length})`);
  return value;
}
