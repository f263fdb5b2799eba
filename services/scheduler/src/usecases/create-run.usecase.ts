import { randomUUID } from 'node:crypto';
import { checkPayload, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE, isBlobRef, type RunRequested, WeftError } from '@weft/contracts';
import { createRun, type CreateRunArgs, type DecideOptions, resolveInputs, validateSpec, WorkflowSpec } from '@weft/core';
import { carrierOf, inSpan, recordRunStarted } from '@weft/telemetry';
import type { ClaimOutboxOption, RunStore } from '../ports/run-store.port';
import type { WorkflowCatalog } from '../ports/workflow-catalog.port';
import { withRunTraceContext } from './run-telemetry.util';
import { decideBounded } from './bounded-decide.util';
import type { BlobValues } from './blob-values';
import { toTransition } from './transition.util';

/** What a run request over the bus cannot say: only the API (in process) passes these. */
export interface StartRunOptions {
  /** @default default */
  namespace?: string;
  /** Steps that start completed with a previous run's outputs (a rerun from a step; see rerunPlan). */
  reuse?: CreateRunArgs['reuse'];
}

/** A run request that can never succeed (bad spec, bad inputs, unknown workflow): dead-lettered, not retried. */
export class RunRejectedError extends WeftError<'RUN_REJECTED'> {
  constructor(message: string) {
    super('RUN_REJECTED', message);
  }
}

/**
 * Starts a run (idempotent by key within its namespace): resolves and checks the spec and
 * inputs, then creates the run and its first transition (`run.start`) in one transaction.
 * The rows it wrote go to `publishCommitted` (CommittedRowsPublisher.publish).
 */
export class CreateRunUseCase {
  constructor(
    private readonly store: Pick<RunStore, 'createRun'>,
    private readonly catalog: WorkflowCatalog,
    private readonly publishCommitted: NonNullable<ClaimOutboxOption['claimOutbox']>,
    private readonly decideOptions: DecideOptions,
    /** A rerun keeps outputs that may be stored by reference: loaded first, so its first decision can read them. */
    private readonly blobs?: BlobValues,
  ) {}

  /** Throws RunRejectedError for requests that can never run. */
  async start(request: RunRequested, options: StartRunOptions = {}): Promise<{ runId: string; created: boolean }> {
    const runId = request.runId ?? randomUUID();
    const namespace = options.namespace ?? request.namespace ?? DEFAULT_NAMESPACE;
    // The run's root span: its context is stored with the run, and everything the run publishes descends from it.
    return inSpan(`run.start ${request.workflow}`, { attributes: { 'weft.run.id': runId, 'weft.workflow': request.workflow } }, async (span) => {
      const { spec, version, inputs } = await inSpan('run.validate', {}, async () => {
        const found = await this.resolveSpec(request, namespace);
        const resolved = resolveInputs(found.spec, request.inputs ?? {});
        const inputErrors = resolved.diagnostics.filter((d) => d.severity === 'error');
        if (inputErrors.length > 0) throw new RunRejectedError(inputErrors.map((d) => `${d.path}: ${d.message}`).join('; '));
        // Stored with the run (PostgreSQL refuses NUL) and carried on its run.queued event (the broker's max_payload).
        const unfit = checkPayload(resolved.inputs, this.decideOptions.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
        if (unfit !== undefined) throw new RunRejectedError(`inputs: ${unfit.message} (${unfit.code})`);
        return { ...found, inputs: resolved.inputs };
      });
      const trace = carrierOf(span);
      for (const kept of Object.values(options.reuse?.steps ?? {})) if (isBlobRef(kept.output)) await this.blobs?.load(kept.output);
      const result = await inSpan('run.persist', {}, () =>
        this.store.createRun(request.idempotencyKey, (now) => {
          const created = createRun({ runId, spec, version, inputs, at: now, correlationId: request.correlationId, namespace, reuse: options.reuse, parent: request.parent, source: request.source, actor: request.actor });
          const started = decideBounded(withRunTraceContext(created.state, trace), { type: 'run.start', at: now }, this.decideOptions);
          const transition = toTransition(undefined, { state: started.state, commands: [...created.commands, ...started.commands] });
          if (!transition) throw new Error('createRun produced no transition');
          return transition;
        }, { namespace, claimOutbox: this.publishCommitted }),
      );
      span.setAttributes({ 'weft.run.id': result.runId, 'weft.run.created': result.created });
      if (result.created) recordRunStarted(spec.name);
      return result;
    });
  }

  private async resolveSpec(request: RunRequested, namespace: string | undefined): Promise<{ spec: WorkflowSpec; version: string }> {
    if (request.spec !== undefined) {
      const parsed = WorkflowSpec.safeParse(request.spec);
      if (!parsed.success) throw new RunRejectedError(`invalid spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const problems = validateSpec(parsed.data).filter((d) => d.severity === 'error');
      if (problems.length > 0) throw new RunRejectedError(`invalid spec: ${problems.map((d) => `${d.path}: ${d.message}`).join('; ')}`);
      return { spec: parsed.data, version: request.version ?? 'adhoc' };
    }
    const found = await this.catalog.resolve(request.workflow, request.version, namespace);
    if (!found) throw new RunRejectedError(`unknown workflow ${request.workflow}${request.version ? ` version ${request.version}` : ''}`);
    return found;
  }
}
