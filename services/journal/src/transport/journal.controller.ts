import { Controller, Get, Inject, Param, Query, UseFilters } from '@nestjs/common';
import { JournalQueries } from '../domain/journal-queries.usecase';
import type { Checkpoint, EventPage, RunHistory, RunReconstruction } from '../domain/journal.types';
import { JOURNAL_CLOCK, type JournalClock } from '../ports/journal-clock.port';
import { JournalProblemFilter } from './problem-details.filter';
import { needsNow, parseEventQuery, type RawQuery } from './query-params.util';

/** The journal's HTTP face under /v1: a run's history, events, checkpoints and reconstruction; events across runs. */
@Controller('v1')
@UseFilters(JournalProblemFilter)
export class JournalController {
  constructor(
    @Inject(JournalQueries) private readonly queries: JournalQueries,
    @Inject(JOURNAL_CLOCK) private readonly clock: JournalClock,
  ) {}

  @Get('runs/:id/history')
  history(@Param('id') runId: string): Promise<RunHistory> {
    return this.queries.history(runId);
  }

  @Get('runs/:id/events')
  async runEvents(@Param('id') runId: string, @Query() raw: RawQuery): Promise<EventPage> {
    return this.queries.runEvents(runId, parseEventQuery(raw, await this.now(raw), { workflow: false, runId: false }));
  }

  @Get('runs/:id/checkpoints')
  checkpoints(@Param('id') runId: string): Promise<Checkpoint[]> {
    return this.queries.checkpoints(runId);
  }

  @Get('runs/:id/checkpoints/:stepId')
  checkpoint(@Param('id') runId: string, @Param('stepId') stepId: string): Promise<Checkpoint> {
    return this.queries.checkpoint(runId, stepId);
  }

  @Get('runs/:id/reconstruct')
  reconstruct(@Param('id') runId: string): Promise<RunReconstruction> {
    return this.queries.reconstruct(runId);
  }

  /** Events across runs: `?workflow=&type=&since=&until=&runId=&limit=&after=`. */
  @Get('events')
  async events(@Query() raw: RawQuery): Promise<EventPage> {
    return this.queries.events(parseEventQuery(raw, await this.now(raw), { workflow: true, runId: true }));
  }

  private async now(raw: RawQuery): Promise<number> {
    // Database time, as the events' own times are; asked only when the query is relative.
    return needsNow(raw) ? this.clock.now() : 0;
  }
}
