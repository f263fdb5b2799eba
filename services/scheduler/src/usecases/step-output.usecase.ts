import { type BlobStore, isBlobRef } from '@weft/contracts';
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
    if (!isBlobRef(step.output)) return { kind: 'inline', value: step.output };
    const size = await this.blobs?.size(step.output.$weftBlob);
    if (this.blobs === undefined || size === undefined) throw new ApiError('STEP_NOT_FOUND', `the stored output of step ${stepId} (blob ${step.output.$weftBlob}) is missing`);
    return { kind: 'blob', size, chunks: this.blobs.read(step.output.$weftBlob) };
  }
}
