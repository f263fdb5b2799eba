import type { IncomingMessage, ServerResponse } from 'node:http';
import { Body, Controller, Delete, Get, Inject, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { WorkflowsUseCase } from '../workflows';
import { type Caller, CallerOf } from '@weft/platform';
import { clientRunSource, etag, idempotencyKey, ifMatchRevision, parse, sendEmpty, sendJson } from './http/http.util';
import { ROUTES as R } from './openapi/routes';
import { RunResponder } from './runs/run-responder';
import { StartRunUseCase } from '../usecases/start-run.usecase';
import { draftView, versionDetailView, versionView, workflowView } from './views.util';
import { ApiAudit } from './api-audit';

const location = (id: string): string => `/v1/workflows/${encodeURIComponent(id)}`;

/** Workflows, their drafts and versions, and runs of a stored workflow. */
@Controller('v1/workflows')
export class WorkflowsController {
  constructor(
    @Inject(WorkflowsUseCase) private readonly workflows: WorkflowsUseCase,
    @Inject(StartRunUseCase) private readonly start: StartRunUseCase,
    @Inject(RunResponder) private readonly responder: RunResponder,
    @Inject(ApiAudit) private readonly audit: ApiAudit,
  ) {}

  @Post()
  async create(@CallerOf() caller: Caller, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const input = parse(R.createWorkflow.body, body, 'body');
    const spec = input.source !== undefined ? { source: input.source } : input.spec !== undefined ? { spec: input.spec } : undefined;
    const created = await this.workflows.create(caller.namespace, { name: input.name, description: input.description, spec });
    await this.audit.record(caller, 'workflow.created', { kind: 'workflow', id: created.id }, { name: created.name });
    sendJson(res, 201, workflowView(created), { Location: location(created.id), ETag: etag(created.draftRevision) });
  }

  @Get()
  async list(@CallerOf() caller: Caller, @Query() query: unknown, @Res() res: ServerResponse): Promise<void> {
    const page = parse(R.listWorkflows.query, query, 'query');
    const limit = pageLimit(page.limit);
    const after = page.cursor === undefined ? undefined : Buffer.from(page.cursor, 'base64url').toString('utf8');
    const rows = await this.workflows.list(caller.namespace, { limit: limit + 1, ...(after !== undefined && { after }) });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    sendJson(res, 200, { items: items.map(workflowView), nextCursor: rows.length > limit && last ? Buffer.from(last.name).toString('base64url') : null });
  }

  @Get(':id')
  async get(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.getWorkflow.params, params, 'path');
    const workflow = await this.workflows.get(caller.namespace, id);
    sendJson(res, 200, workflowView(workflow), { ETag: etag(workflow.draftRevision) });
  }

  @Patch(':id')
  async update(@CallerOf() caller: Caller, @Param() params: unknown, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.updateWorkflow.params, params, 'path');
    const changes = parse(R.updateWorkflow.body, body, 'body');
    const updated = await this.workflows.update(caller.namespace, id, changes);
    await this.audit.record(caller, 'workflow.updated', { kind: 'workflow', id: updated.id }, { changes: Object.keys(changes) });
    sendJson(res, 200, workflowView(updated));
  }

  @Delete(':id')
  async delete(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.deleteWorkflow.params, params, 'path');
    await this.workflows.delete(caller.namespace, id);
    await this.audit.record(caller, 'workflow.deleted', { kind: 'workflow', id });
    sendEmpty(res, 204);
  }

  @Get(':id/draft')
  async draft(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.getDraft.params, params, 'path');
    const workflow = await this.workflows.get(caller.namespace, id);
    sendJson(res, 200, draftView(workflow), { ETag: etag(workflow.draftRevision) });
  }

  @Patch(':id/draft')
  async saveDraft(@CallerOf() caller: Caller, @Req() req: IncomingMessage, @Param() params: unknown, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.saveDraft.params, params, 'path');
    const input = parse(R.saveDraft.body, body, 'body');
    const revision = ifMatchRevision(req);
    const saved = await this.workflows.saveDraft(caller.namespace, id, input.source !== undefined ? { source: input.source } : { spec: input.spec }, revision);
    await this.audit.record(caller, 'draft.saved', { kind: 'workflow', id: saved.id }, { revision: saved.draftRevision });
    sendJson(res, 200, draftView(saved), { ETag: etag(saved.draftRevision) });
  }

  @Post(':id/versions')
  async freeze(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.freezeVersion.params, params, 'path');
    const frozen = await this.workflows.freeze(caller.namespace, id);
    const { workflow, version } = await this.workflows.version(caller.namespace, frozen.workflow.id, frozen.version.version);
    // Freezing an unchanged draft again answers the same version and changes nothing: no record.
    if (frozen.created) await this.audit.record(caller, 'version.frozen', { kind: 'workflow', id: workflow.id }, { version: version.version });
    sendJson(res, frozen.created ? 201 : 200, versionDetailView(workflow, version), { Location: `${location(workflow.id)}/versions/${version.version}` });
  }

  @Get(':id/versions')
  async versions(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.listVersions.params, params, 'path');
    const { workflow, versions } = await this.workflows.versions(caller.namespace, id);
    sendJson(res, 200, { items: versions.map((v) => versionView(workflow, v)) });
  }

  @Get(':id/versions/:version')
  async version(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id, version } = parse(R.getVersion.params, params, 'path');
    const found = await this.workflows.version(caller.namespace, id, Number(version));
    sendJson(res, 200, versionDetailView(found.workflow, found.version));
  }

  @Post(':id/versions/:version/publish')
  async publish(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id, version } = parse(R.publishVersion.params, params, 'path');
    const published = await this.workflows.publish(caller.namespace, id, Number(version));
    await this.audit.record(caller, 'version.published', { kind: 'workflow', id: published.id }, { version: Number(version) });
    sendJson(res, 200, workflowView(published));
  }

  @Post(':id/versions/:version/archive')
  async archive(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id, version } = parse(R.archiveVersion.params, params, 'path');
    const archived = await this.workflows.archive(caller.namespace, id, Number(version));
    const workflow = await this.workflows.get(caller.namespace, id);
    await this.audit.record(caller, 'version.archived', { kind: 'workflow', id: workflow.id }, { version: Number(version) });
    sendJson(res, 200, versionView(workflow, archived));
  }

  @Post(':id/runs')
  async run(
    @CallerOf() caller: Caller,
    @Req() req: IncomingMessage,
    @Param() params: unknown,
    @Query() query: unknown,
    @Body() body: unknown,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const { id } = parse(R.startWorkflowRun.params, params, 'path');
    const mode = parse(R.startWorkflowRun.query, query, 'query');
    const input = parse(R.startWorkflowRun.body, body ?? {}, 'body');
    const started = await this.start.ofWorkflow(caller.namespace, id, { ...input, idempotencyKey: idempotencyKey(req), source: clientRunSource(req), actor: await this.audit.actorOf(caller) });
    // A repeated idempotency key answers the run it started before: nothing new to record.
    await this.audit.started(caller, 'run.started', started, { workflow: id }, mode, () => this.responder.started(res, caller.namespace, started, mode));
  }
}

export function pageLimit(text: string | undefined): number {
  const limit = text === undefined ? 50 : Number(text);
  return Math.min(Math.max(limit, 1), 200);
}
