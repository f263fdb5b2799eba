import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseFilters } from '@nestjs/common';
import { TriggersHttp } from '@weft/contracts';
import { type Caller, CallerOf } from '@weft/platform';
import { z } from 'zod';
import type { FireOutcome } from '../domain/fire-log';
import { TriggersError } from '../domain/triggers.errors';
import type { FireRecord, TriggerRef } from '../ports/trigger.types';
import type { OccurrenceResult } from '../usecases/record-occurrence.usecase';
import { type TestResult, TriggerControlUseCase, type TriggerSummary } from '../usecases/trigger-control.usecase';
import { triggersProblemFilter } from './triggers-problem.filter';

const { FireBody, BackfillBody, TestBody, FiresQuery } = TriggersHttp;

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new TriggersError('INVALID_REQUEST', `${what}: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
  return result.data;
}

/** A fire log row as the API shows it (times ISO-8601). */
export interface FireView {
  id: string;
  occurrence: string;
  outcome: string;
  reason?: string;
  runId?: string;
  idempotencyKey?: string;
  scheduledAt?: string;
  at: string;
  held?: boolean;
}

function view(f: FireRecord): FireView {
  return {
    id: f.id,
    occurrence: f.occurrence,
    outcome: f.outcome,
    ...(f.reason === null ? {} : { reason: f.reason }),
    ...(f.runId === null ? {} : { runId: f.runId }),
    ...(f.idempotencyKey === null ? {} : { idempotencyKey: f.idempotencyKey }),
    ...(f.scheduledAt === null ? {} : { scheduledAt: new Date(f.scheduledAt).toISOString() }),
    at: new Date(f.createdAt).toISOString(),
    ...(f.held ? { held: true } : {}),
  };
}

/** `/v1/triggers`: the catalog, the fire log and the controls, confined to the caller's namespace. */
@Controller('v1/triggers')
@UseFilters(triggersProblemFilter)
export class TriggersController {
  constructor(@Inject(TriggerControlUseCase) private readonly control: TriggerControlUseCase) {}

  @Get()
  async list(@CallerOf() caller: Caller): Promise<{ triggers: TriggerSummary[] }> {
    return { triggers: await this.control.catalog(caller.namespace) };
  }

  @Get(':workflow/:trigger/fires')
  async fires(@CallerOf() caller: Caller, @Param('workflow') workflow: string, @Param('trigger') trigger: string, @Query() query: unknown): Promise<{ fires: FireView[]; next?: string }> {
    const q = parse(FiresQuery, query, 'query');
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (limit < 1 || limit > 500) throw new TriggersError('INVALID_REQUEST', 'query: limit is 1..500');
    const fires = await this.control.fires(ref(caller, workflow, trigger), { limit, ...(q.before ? { before: q.before } : {}), ...(q.outcome ? { outcome: q.outcome as FireOutcome } : {}) });
    const last = fires.at(-1);
    return { fires: fires.map(view), ...(fires.length === limit && last ? { next: last.id } : {}) };
  }

  @Post(':workflow/:trigger/pause')
  @HttpCode(200)
  async pause(@CallerOf() caller: Caller, @Param('workflow') workflow: string, @Param('trigger') trigger: string): Promise<{ state: string }> {
    await this.control.setPaused(ref(caller, workflow, trigger), true, caller);
    return { state: 'paused' };
  }

  @Post(':workflow/:trigger/resume')
  @HttpCode(200)
  async resume(@CallerOf() caller: Caller, @Param('workflow') workflow: string, @Param('trigger') trigger: string): Promise<{ state: string }> {
    await this.control.setPaused(ref(caller, workflow, trigger), false, caller);
    return { state: 'active' };
  }

  @Post(':workflow/:trigger/fire')
  @HttpCode(202)
  fire(@CallerOf() caller: Caller, @Param('workflow') workflow: string, @Param('trigger') trigger: string, @Body() body: unknown): Promise<OccurrenceResult> {
    const b = parse(FireBody, body, 'body');
    return this.control.fireNow(ref(caller, workflow, trigger), b.inputs ?? {}, b.key, caller);
  }

  @Post(':workflow/:trigger/backfill')
  @HttpCode(202)
  backfill(@CallerOf() caller: Caller, @Param('workflow') workflow: string, @Param('trigger') trigger: string, @Body() body: unknown): Promise<{ ticks: number; results: OccurrenceResult[] }> {
    const b = parse(BackfillBody, body, 'body');
    return this.control.backfill(ref(caller, workflow, trigger), b.from, b.to, caller);
  }

  @Post(':workflow/:trigger/test')
  @HttpCode(200)
  test(@CallerOf() caller: Caller, @Param('workflow') workflow: string, @Param('trigger') trigger: string, @Body() body: unknown): Promise<TestResult> {
    const b = parse(TestBody, body, 'body');
    return this.control.test(ref(caller, workflow, trigger), {
      ...(b.event === undefined ? {} : { event: b.event }),
      ...(b.headers === undefined ? {} : { headers: b.headers }),
      ...(b.body === undefined ? {} : { body: b.body }),
      ...(b.at === undefined ? {} : { at: b.at }),
    });
  }
}

function ref(caller: Caller, workflow: string, triggerId: string): TriggerRef {
  return { namespace: caller.namespace, workflow, triggerId };
}
