import { readFile } from 'node:fs/promises';
import type { WorkflowSpec } from '@weft/core';
import { EXIT } from '../exit-codes';
import { cancelOnInterrupt } from '../interrupt.util';
import type { Io } from '../io';
import { runReport } from '../output/run-report';
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
    let runId: string | undefined;
    const interrupt = cancelOnInterrupt(io, signals, (id) => {
      client.runs.cancel(id, 'interrupted (SIGINT)').catch((error: unknown) => io.err(`could not cancel run ${id}: ${error instanceof Error ? error.message : String(error)}`));
    });
    try {
      const state = await followRun(client.runs.follow({ source }, { inputs }), io, {
        quiet: options.json === true,
        spec,
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
  });
}
