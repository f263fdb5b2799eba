import { readFile } from 'node:fs/promises';
import type { WorkflowSpec } from '@weft/core';
import type { RunStreamEvent, WeftClient } from '@weft/sdk';
import { EXIT } from '../exit-codes';
import { cancelOnInterrupt } from '../interrupt.util';
import type { Io } from '../io';
import { runReport } from '../output/run-report';
import type { RunView } from '../output/run-view';
import { type ApiFlags, apiClient, withApi } from './api-connection';
import { followRun } from './follow-run';

export interface RemoteRunOptions extends ApiFlags {
  json?: boolean;
}

/**
 * `weft run <file> --api <url>`: submits the file as an ad-hoc run to a deployment and
 * follows it with the embedded run's view and `--json` document. Ctrl-C cancels the run
 * on the deployment.
 */
export async function runRemote(file: string, spec: WorkflowSpec, inputs: Record<string, unknown>, options: RemoteRunOptions, io: Io, signals: NodeJS.EventEmitter): Promise<number> {
  return withApi(io, async () => {
    const client = apiClient(options);
    // The file's text, not the parsed spec: the server's diagnostics then point at its lines.
    const source = await readFile(file, 'utf8');
    return followRemoteRun(client, client.runs.follow({ source }, { inputs }), { json: options.json, spec }, io, signals);
  });
}

/**
 * Follows a run stream of a deployment to the run's end, as `weft run --api` shows it: the
 * embedded run's live view (or, with `json`, nothing until the end and then the `--json`
 * document), Ctrl-C cancels the run on the deployment; exit 0 completed, 1 failed, partial
 * or canceled, 70 when the stream ended before the run did. The stream may start the run
 * itself (it is read only once the Ctrl-C guard is in place). Call it inside withApi.
 */
export async function followRemoteRun(
  client: WeftClient,
  stream: AsyncIterable<RunStreamEvent>,
  options: { json?: boolean; spec?: WorkflowSpec },
  io: Io,
  signals: NodeJS.EventEmitter,
): Promise<number> {
  let runId: string | undefined;
  let view: RunView | undefined;
  // Ctrl-C's message above the live table, where the next frame does not overwrite it.
  const messages: Io = { ...io, err: (line) => (view ? view.message(line) : io.err(line)) };
  const interrupt = cancelOnInterrupt(messages, signals, (id) => {
    client.runs.cancel(id, 'interrupted (SIGINT)').catch((error: unknown) => io.err(`could not cancel run ${id}: ${error instanceof Error ? error.message : String(error)}`));
  });
  try {
    const state = await followRun(stream, io, {
      quiet: options.json === true,
      ...(options.spec && { spec: options.spec }),
      onView: (shown) => {
        view = shown;
      },
      onRunId: (id) => {
        runId = id;
        interrupt.started(id);
      },
    });
    if (!state) {
      io.err(`the stream ended before the run did${runId ? `: weft runs show ${runId}` : ''}`);
      return EXIT.internal;
    }
    if (options.json) io.out(JSON.stringify(runReport(state), null, 2));
    return state.status === 'completed' ? EXIT.ok : EXIT.runFailed;
  } finally {
    interrupt.dispose();
  }
}
