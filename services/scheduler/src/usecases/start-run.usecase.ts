import { randomUUID } from 'node:crypto';
import { type Actor, type BlobStore, isBlobRef } from '@weft/contracts';
import { RerunError, rerunPlan, resolveInputs, type RunState, type WorkflowSpec } from '@weft/core';
import type { Scheduler } from '../scheduler';
import { InvalidSpecError, SpecChecker, type SpecSource, WorkflowError, type WorkflowsUseCase } from '../workflows';
import { ApiError } from '../api/http/api.errors';
import { diagnosticProblem } from '../api/http/problem.util';
import type { RunAccess } from './run-access';
import type { SqlRunDirectory } from '../persistence/run-directory.repository';

export interface StartedRun {
  runId: string;
  /** false: the idempotency key named a run that already existed, which this is. */
  created: boolean;
}

export interface RunRequestCommon {
  inputs?: Record<string, unknown>;
  correlationId?: string;
  /** The same key returns the same run (per namespace); absent, every request starts a run. */
  idempotencyKey?: string;
  /** The caller (its API key, or `local`): kept on the run and in its run.queued event. */
  actor?: Actor;
  /** The client that asked (`Weft-Source`): `cli` for `weft`. @default 'api' (a rerun is always `rerun:<runId>`) */
  source?: 'api' | 'cli';
}

/**
 * Starts runs for the API: of a stored workflow (its published or a given version), of an
 * ad-hoc spec, or a rerun of an old run from one of its steps. Inputs and specs are checked
 * here so that problems come back as `errors[]`; the scheduler then creates the run in the
 * caller's namespace, in one transaction with its first dispatches.
 */
export class StartRunUseCase {
  constructor(
    private readonly scheduler: Pick<Scheduler, 'startRun'>,
    private readonly workflows: Pick<WorkflowsUseCase, 'resolveForRun'>,
    private readonly runs: Pick<RunAccess, 'get'>,
    private readonly directory: Pick<SqlRunDirectory, 'addLink'>,
    /** Checks an ad-hoc run's spec (off the event loop when large). */
    private readonly checker: Pick<SpecChecker, 'check'> = new SpecChecker(),
    /** Where a rerun finds its old run's inputs when they were stored by reference. */
    private readonly blobs?: Pick<BlobStore, 'get'>,
  ) {}

  async ofWorkflow(namespace: string, ref: string, request: RunRequestCommon & { version?: number }): Promise<StartedRun> {
    const resolved = await this.workflows.resolveForRun(namespace, ref, request.version);
    return this.start(namespace, resolved.spec, String(resolved.version), request);
  }

  async adhoc(namespace: string, source: SpecSource, request: RunRequestCommon): Promise<StartedRun> {
    const { spec, diagnostics } = await this.checker.check(source);
    if (!spec) {
      const errors = diagnostics.filter((d) => d.severity === 'error');
      throw new InvalidSpecError(`the spec has ${errors.length} error(s)`, errors);
    }
    return this.start(namespace, spec, 'adhoc', request);
  }

  /**
   * A new run of an old run's workflow that keeps the outputs of every step not downstream
   * of `from` (see rerunPlan), with the old run's inputs, on the old spec or a stored version.
   */
  async rerun(namespace: string, runId: string, request: { from?: string; version?: number | 'published'; idempotencyKey?: string; actor?: Actor }): Promise<StartedRun> {
    const previous = await this.runs.get(namespace, runId);
    const { spec, version } = await this.specForRerun(namespace, previous, request.version);
    let plan;
    try {
      plan = rerunPlan(spec, previous, request.from);
    } catch (error) {
      if (error instanceof RerunError) throw new ApiError('INVALID_REQUEST', error.message, [{ path: 'query.from', message: error.message, code: error.code }], { cause: error });
      throw error;
    }
    // Inputs the (newer) spec no longer declares are dropped; new ones take their defaults.
    const declared = spec.inputs ?? {};
    const inputs = Object.fromEntries(Object.entries(await this.inputsOf(previous)).filter(([name]) => Object.hasOwn(declared, name)));
    const started = await this.start(namespace, spec, version, { inputs, idempotencyKey: request.idempotencyKey, correlationId: previous.correlationId, actor: request.actor }, {
      runId: previous.runId,
      steps: plan.reuse,
    });
    await this.directory.addLink(namespace, { runId: started.runId, kind: 'rerun', sourceRunId: previous.runId, fromStep: request.from ?? null });
    return started;
  }

  /** A run's inputs as values (read from the blob store when kept by reference). */
  private async inputsOf(run: RunState): Promise<Record<string, unknown>> {
    if (!isBlobRef(run.inputs)) return run.inputs;
    const bytes = await this.blobs?.get(run.inputs.$weftBlob);
    if (bytes === undefined) throw new ApiError('RERUN_NOT_POSSIBLE', `the stored inputs of run ${run.runId} (blob ${run.inputs.$weftBlob}) are missing`);
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  }

  private async specForRerun(namespace: string, previous: RunState, wanted: number | 'published' | undefined): Promise<{ spec: WorkflowSpec; version: string }> {
    if (wanted === undefined) return { spec: previous.spec, version: previous.version };
    try {
      const resolved = await this.workflows.resolveForRun(namespace, previous.workflow, wanted === 'published' ? undefined : wanted);
      return { spec: resolved.spec, version: String(resolved.version) };
    } catch (error) {
      if (error instanceof WorkflowError && error.code === 'WORKFLOW_NOT_FOUND') {
        throw new ApiError('RERUN_NOT_POSSIBLE', `run ${previous.runId} ran ${previous.workflow}, which is not a stored workflow: it has no versions to rerun on`);
      }
      throw error;
    }
  }

  private async start(
    namespace: string,
    spec: WorkflowSpec,
    version: string,
    request: RunRequestCommon,
    reuse?: { runId: string; steps: Record<string, { output?: unknown }> },
  ): Promise<StartedRun> {
    const resolved = resolveInputs(spec, request.inputs ?? {});
    const errors = resolved.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) throw new ApiError('INVALID_INPUTS', `the inputs do not fit workflow ${spec.name}`, errors.map(diagnosticProblem));
    const runId = randomUUID();
    return this.scheduler.startRun(
      {
        idempotencyKey: request.idempotencyKey ?? runId,
        runId,
        workflow: spec.name,
        version,
        spec,
        inputs: request.inputs ?? {},
        ...(request.correlationId !== undefined && { correlationId: request.correlationId }),
        source: reuse ? `rerun:${reuse.runId}` : (request.source ?? 'api'),
        ...(request.actor !== undefined && { actor: request.actor }),
      },
      { namespace, ...(reuse && { reuse }) },
    );
  }
}
