import { isBlobRef } from '@weft/contracts';
import type { Checkpoint } from './journal.types';

/**
 * A checkpoint holds what the step.completed events carried: a step output stored by reference
 * (issue 12 item 4) is its `{ $weftBlob, size }`, kept once however many later checkpoints name
 * it. The answer adds where to fetch it, as the scheduler's run view does: the scheduler's
 * `GET /v1/runs/{id}/steps/{step}/output`, confined to the caller's namespace there too.
 */
export function withOutputLinks(checkpoint: Checkpoint): Checkpoint {
  const link = (stepId: string, value: unknown): unknown =>
    isBlobRef(value) ? { ...value, href: `/v1/runs/${encodeURIComponent(checkpoint.runId)}/steps/${encodeURIComponent(stepId)}/output` } : value;
  const { state } = checkpoint;
  const linked = Object.values(state).some(isBlobRef) ? Object.fromEntries(Object.entries(state).map(([id, v]) => [id, link(id, v)])) : state;
  const output = link(checkpoint.stepId, checkpoint.output);
  return output === checkpoint.output && linked === state ? checkpoint : { ...checkpoint, output, state: linked };
}
