import type { IncomingMessage, ServerResponse } from 'node:http';
import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import { clientRunSource, idempotencyKey, parse, sendJson, sendPage } from './http/http.util';
import { ROUTES as R } from './openapi/routes';
import { RunControlUseCase } from '../usecases/run-control.usecase';
import { RunQueriesUseCase } from '../usecases/run-queries.usecase';
import { RunResponder } from './runs/run-responder';
import { StartRunUseCase } from '../usecases/start-run.usecase';
import { runSummaryView, runView, withPayloadLink } from './views.util';
import { stepInputView } from './step-input.view';
import { ApiAudit } from './api-audit';

/** Runs: ad-hoc starts, listings, one run, its outputs and stream, and cancel / resume / retry / rerun. */
@Controller('v1/runs')
export class RunsController {
  constructor(
    @Inject(StartRunUseCase) private readonly start: StartRunUseCase,
    @Inject(RunQueriesUseCase) private readonly queries: RunQueriesUseCase,
    @Inject(RunControlUseCase) private readonly control: RunControlUseCase,
    @Inject(RunResponder) private readonly responder: RunResponder,
    @Inject(ApiAudit) private readonly audit: ApiAudit,
  ) {}

  @Post('adhoc')
  async adhoc(@CallerOf() caller: Caller, @Req() req: IncomingMessage, @Query() query: unknown, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const mode = parse(R.startAdhocRun.query, query, 'query');
    const input = parse(R.startAdhocRun.body, body, 'body');
    const source = input.source !== undefined ? { source: input.source } : { spec: input.spec };
    const started = await this.start.adhoc(caller.namespace, source, {
      inputs: input.inputs,
      correlationId: input.correlationId,
      idempotencyKey: idempotencyKey(req),
      source: clientRunSource(req),
      actor: await this.audit.actorOf(caller),
    });
    await this.audit.started(caller, 'run.started', started, { adhoc: true }, mode, () => this.responder.started(res, caller.namespace, started, mode));
  }

  @Get()
  async list(@CallerOf() caller: Caller, @Query() query: unknown, @Res() res: ServerResponse): Promise<void> {
    const page = await this.queries.list(caller.namespace, parse(R.listRuns.query, query, 'query'));
    sendPage(res, page, runSummaryView);
  }

  @Get(':id')
  async get(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.getRun.params, params, 'path');
    const { state, link } = await this.queries.get(caller.namespace, id);
    sendJson(res, 200, runView(state, caller.namespace, link));
  }

  @Get(':id/steps/:step/input')
  async stepInput(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id, step } = parse(R.getStepInput.params, params, 'path');
    const { state } = await this.queries.get(caller.namespace, id);
    sendJson(res, 200, stepInputView(state, step));
  }

  @Get(':id/output')
  async output(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.getRunOutput.params, params, 'path');
    const state = await this.queries.output(caller.namespace, id);
    sendJson(res, 200, { runId: state.runId, status: state.status, outputs: withPayloadLink(state.outputs ?? null, `/v1/runs/${encodeURIComponent(state.runId)}/outputs`), error: state.error ? { code: state.error.code, message: state.error.message } : null });
  }

  @Get(':id/stream')
  async stream(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.streamRun.params, params, 'path');
    await this.queries.get(caller.namespace, id);
    await this.responder.stream(res, caller.namespace, id);
  }

  @Post(':id/cancel')
  async cancel(@CallerOf() caller: Caller, @Param() params: unknown, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.cancelRun.params, params, 'path');
    const { reason } = parse(R.cancelRun.body, body ?? {}, 'body');
    // Canceling a canceled run answers it unchanged: only the cancel that changed something is recorded.
    const already = (await this.queries.get(caller.namespace, id)).state.status === 'canceled';
    const state = await this.control.cancel(caller.namespace, id, reason);
    if (!already) await this.audit.record(caller, 'run.canceled', { kind: 'run', id }, reason === undefined ? {} : { reason });
    sendJson(res, 200, runView(state, caller.namespace, await this.queries.link(id)));
  }

  @Post(':id/resume')
  async resume(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.resumeRun.params, params, 'path');
    const resumed = await this.control.resume(caller.namespace, id);
    await this.audit.record(caller, 'run.resumed', { kind: 'run', id }, { redispatched: resumed.redispatched, flushed: resumed.flushed });
    sendJson(res, 200, { run: runView(resumed.state, caller.namespace, await this.queries.link(id)), redispatched: resumed.redispatched, flushed: resumed.flushed });
  }

  @Post(':id/retry')
  async retry(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.retryRun.params, params, 'path');
    const state = await this.control.retry(caller.namespace, id);
    await this.audit.record(caller, 'run.retried', { kind: 'run', id });
    sendJson(res, 200, runView(state, caller.namespace, await this.queries.link(id)));
  }

  @Post(':id/rerun')
  async rerun(
    @CallerOf() caller: Caller,
    @Req() req: IncomingMessage,
    @Param() params: unknown,
    @Query() query: unknown,
    @Body() body: unknown,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const { id } = parse(R.rerunRun.params, params, 'path');
    const { from, ...mode } = parse(R.rerunRun.query, query, 'query');
    const { version } = parse(R.rerunRun.body, body ?? {}, 'body');
    const started = await this.start.rerun(caller.namespace, id, { from, version, idempotencyKey: idempotencyKey(req), actor: await this.audit.actorOf(caller) });
    const details = { of: id, ...(from !== undefined && { from }), ...(version !== undefined && { version }) };
    await this.audit.started(caller, 'run.rerun', started, details, mode, () => this.responder.started(res, caller.namespace, started, mode));
  }
}
