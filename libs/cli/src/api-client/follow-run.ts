import type { LifecycleEvent } from '@weft/contracts';
import type { RunState, WorkflowSpec } from '@weft/core';
import type { Run, RunStreamEvent } from '@weft/sdk';
import type { Io } from '../io';
import { createRunView, type RunView } from '../output/run-view';
import { runStateFromApi } from './run-state.adapter';

export interface FollowOptions {
  /** Print nothing while it runs (`--json`). */
  quiet?: boolean;
  /** Called once the run's id is known (to cancel it on Ctrl-C). */
  onRunId?: (runId: string) => void;
  /** The spec, when the caller has it before the first event (draws the live table at once). */
  spec?: WorkflowSpec;
  /** The view, once there is one (to print Ctrl-C messages above the live table). */
  onView?: (view: RunView) => void;
}

/**
 * Shows a run stream with the same view as embedded runs (a live table on a terminal,
 * plain lines otherwise) and resolves with the finished run, or undefined when the
 * stream ended before the run did (the server went away).
 */
export async function followRun(stream: AsyncIterable<RunStreamEvent>, io: Io, options: FollowOptions = {}): Promise<RunState | undefined> {
  let view = options.quiet || !options.spec ? undefined : createRunView(options.spec, io);
  if (view) options.onView?.(view);
  let final: Run | undefined;
  for await (const message of stream) {
    switch (message.type) {
      case 'snapshot': {
        options.onRunId?.(message.run.runId);
        if (!options.quiet) {
          view ??= createRunView(message.run.spec, io);
          options.onView?.(view);
          // What the snapshot already holds is not streamed again: say the run is under way, as an embedded run does,
          // and show its steps as they are now and the time since it really started.
          view.onEvent(startedEvent(message.run));
          view.join(runStateFromApi(message.run));
        }
        break;
      }
      case 'event':
        view?.onEvent(message.event);
        break;
      case 'end':
        final = message.run;
        break;
    }
  }
  if (!final) return undefined;
  const state = runStateFromApi(final);
  view?.finish(state);
  return state;
}

function startedEvent(run: Run): LifecycleEvent {
  return {
    eventId: `${run.runId}:snapshot`,
    type: 'run.started',
    runId: run.runId,
    workflow: run.workflow,
    version: run.version,
    status: run.status,
    at: run.startedAt ?? run.createdAt,
  };
}
