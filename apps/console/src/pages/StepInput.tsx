import { useQuery } from '@tanstack/react-query';
import type { StepInput as StepInputAnswer } from '@weft/sdk';
import { api, enc } from '../api/client';
import { Json, Loading, ProblemMessage } from '../components/common';

/**
 * A step's input tab: what its action was given (GET /v1/runs/{id}/steps/{step}/input, its
 * with: evaluated in the run), or why there is none, and its with: as written.
 */
export function StepInput({ runId, stepId, status }: { runId: string; stepId: string; status: string }): React.JSX.Element {
  // Asked again when the step's status changes: a pending step gets an input once dispatched.
  const answer = useQuery({
    queryKey: ['step-input', runId, stepId, status],
    queryFn: ({ signal }) => api<StepInputAnswer>(`/v1/runs/${enc(runId)}/steps/${enc(stepId)}/input`, { signal }),
  });
  if (answer.isPending) return <Loading what="input" />;
  if (answer.error || !answer.data) return <ProblemMessage error={answer.error} title="Could not load the input" />;
  const { input, reason } = answer.data;
  return (
    <div data-testid="step-input">
      <h3>Evaluated</h3>
      {input ? <Json value={input} /> : <p className="muted">{reason}</p>}
      <h3>As written</h3>
      <p className="muted small">
        The step's <code>with:</code> in the spec (expressions unresolved).
      </p>
      <Json value={answer.data.with} />
    </div>
  );
}
