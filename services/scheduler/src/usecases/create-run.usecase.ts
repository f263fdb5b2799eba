import { randomUUID } from 'node:crypto';
import { BLOB_ERROR_CODES, checkPayload, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE, isBlobRef, type RunRequested, WeftError } from '@weft/contracts';
import { createRun, type CreateRunArgs, resolveInputs, validateSpec, WorkflowSpec } from '@weft/core';
import { carrierOf, inSpan, recordRunStarted } from '@weft/telemetry';
import type { ClaimOutboxOption, RunStore } from '../ports/run-store.port';
import type { WorkflowCatalog } from '../ports/workflow-catalog.port';
import { withRunTraceContext } from './run-telemetry.util';
import { type BoundedDecideOptions, decideBounded } from './bounded-decide.util';
import { type BlobValues, withBlobRounds } from './blob-values';
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
    private readonly decideOptions: BoundedDecideOptions,
    /**
     * Payloads by reference: a rerun's kept outputs are loaded first (its first decision may read them);
     * inputs over the inline threshold are written as a blob and the run keeps the reference.
     */
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
        const resolved = resolveInputs(found.spec, await this.inputValues(request));
        const inputErrors = resolved.diagnostics.filter((d) => d.severity === 'error');
        if (inputErrors.length > 0) throw new RunRejectedError(inputErrors.map((d) => `${d.path}: ${d.message}`).join('; '));
        // Stored with the run (PostgreSQL refuses NUL) and carried on its run.queued event (the broker's max_payload),
        // unless stored by reference (then bounded by WEFT_MAX_OUTPUT like an output).
        const refs = this.blobs === undefined ? undefined : this.decideOptions.payloadRefs;
        const maxPayload = this.decideOptions.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
        const unfit = checkPayload(resolved.inputs, refs === undefined ? maxPayload : Math.max(maxPayload, refs.maxBytes));
        if (unfit !== undefined) throw new RunRejectedError(`inputs: ${unfit.message} (${unfit.code})`);
        return { ...found, inputs: await this.byReference(namespace, resolved.inputs) };
      });
      const trace = carrierOf(span);
      for (const kept of Object.values(options.reuse?.steps ?? {})) if (isBlobRef(kept.output)) await this.blobs?.load(kept.output);
      const result = await inSpan('run.persist', {}, () =>
        withBlobRounds(this.blobs, () => this.store.createRun(request.idempotencyKey, (now) => {
          const created = createRun({ runId, spec, version, inputs, at: now, correlationId: request.correlationId, namespace, reuse: options.reuse, parent: request.parent, source: request.source, actor: request.actor });
          const started = decideBounded(withRunTraceContext(created.state, trace), { type: 'run.start', at: now }, this.decideOptions);
          const transition = toTransition(undefined, { state: started.state, commands: [...created.commands, ...started.commands] });
          if (!transition) throw new Error('createRun produced no transition');
          return transition;
        }, { namespace, claimOutbox: this.publishCommitted })),
      );
      span.setAttributes({ 'weft.run.id': result.runId, 'weft.run.created': result.created });
      if (result.created) recordRunStarted(spec.name);
      return result;
    });
  }

  /**
   * The request's inputs as values. Only a parent's scheduler sends a child's inputs by reference
   * (`start-child`); from anyone else a reference could name another namespace's blob.
   */
  private async inputValues(request: RunRequested): Promise<Record<string, unknown>> {
    const inputs = request.inputs ?? {};
    if (!isBlobRef(inputs)) return inputs;
    if (request.parent === undefined || this.blobs === undefined) throw new RunRejectedError(`inputs: shaped like a blob reference ({$weftBlob, size}), which a run request may not send (${BLOB_ERROR_CODES.reservedInput})`);
    await this.blobs.load(inputs);
    const value = this.blobs.resolve(inputs);
    if (value === null || typeof value !== 'object' || Array.isArray(value) || isBlobRef(value) || BLOB_ERROR_CODES.missing === (value as { error?: unknown }).error) {
      throw new RunRejectedError(`inputs: the blob ${inputs.$weftBlob} the parent run stored them in is missing (${BLOB_ERROR_CODES.missing})`);
    }
    return value as Record<string, unknown>;
  }

  /** Inputs whose JSON is over the inline threshold become a blob; the run keeps its reference. */
  private async byReference(namespace: string, inputs: Record<string, unknown>): Promise<Record<string, unknown>> {
    const refs = this.decideOptions.payloadRefs;
    if (this.blobs === undefined || refs === undefined) return inputs;
    const json = JSON.stringify(inputs);
    if (Buffer.byteLength(json, 'utf8') <= refs.inlineBytes) return inputs;
    const ref = await this.blobs.put(namespace, json);
    // The run's first decision reads them (withInputValues): in memory before it starts.
    this.blobs.hold(ref, inputs);
    return ref as unknown as Record<string, unknown>;
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
