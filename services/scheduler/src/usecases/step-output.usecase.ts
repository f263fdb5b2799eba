import { type BlobStore, isBlobRef } from '@weft/contracts';
import { isTerminalRunStatus } from '@weft/core';
import { ApiError } from '../api/http/api.errors';
import type { RunAccess } from './run-access';

export type StepOutputBody = { kind: 'inline'; value: unknown } | { kind: 'blob'; size: number; chunks: AsyncIterable<Uint8Array> };

/**
 * GET /v1/runs/{id}/steps/{step}/output. The run is looked up in the caller's namespace first
 * (another namespace's run is RUN_NOT_FOUND), so a blob is only ever reached through a run that
 * holds its reference, never by its id.
 */
export class StepOutputUseCase {
  constructor(
    private readonly access: Pick<RunAccess, 'get'>,
    private readonly blobs: BlobStore | undefined,
  ) {}

  async get(namespace: string, runId: string, stepId: string): Promise<StepOutputBody> {
    const state = await this.access.get(namespace, runId);
    const step = Object.prototype.hasOwnProperty.call(state.steps, stepId) ? state.steps[stepId] : undefined;
    if (step === undefined) throw new ApiError('STEP_NOT_FOUND', `run ${runId} has no step ${stepId}`);
    if (step.output === undefined) throw new ApiError('STEP_NOT_FOUND', `step ${stepId} of run ${runId} has no output`);
    return this.body(step.output, () => new ApiError('STEP_NOT_FOUND', `the stored output of step ${stepId} of run ${runId} is missing`));
  }

  /**
   * GET /v1/runs/{id}/inputs | outputs: a run's inputs or outputs by themselves, streamed when stored
   * by reference. Outputs exist once the run ends (RUN_NOT_FINISHED before; an ended run without
   * `outputs:` in its spec answers JSON null).
   */
  async runPayload(namespace: string, runId: string, which: 'inputs' | 'outputs'): Promise<StepOutputBody> {
    const state = await this.access.get(namespace, runId);
    if (which === 'inputs') return this.body(state.inputs, () => new ApiError('RUN_NOT_FOUND', `the stored inputs of run ${runId} are missing`));
    if (!isTerminalRunStatus(state.status)) throw new ApiError('RUN_NOT_FINISHED', `run ${runId} is ${state.status}: its outputs exist once it ends`);
    return this.body(state.outputs ?? null, () => new ApiError('RUN_NOT_FOUND', `the stored outputs of run ${runId} are missing`));
  }

  private async body(value: unknown, missing: () => ApiError): Promise<StepOutputBody> {
    if (!isBlobRef(value)) return { kind: 'inline', value };
    const size = await this.blobs?.size(value.$weftBlob);
    if (this.blobs === undefined || size === undefined) throw missing();
    return { kind: 'blob', size, chunks: this.blobs.read(value.$weftBlob) };
  }
}
