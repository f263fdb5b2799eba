import { type ApiFlags, apiClient, CliUsageError, withApi } from '../api-client/api-connection';
import { followRun } from '../api-client/follow-run';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { printRun, runsShow } from './runs.command';

/**
 * `weft logs <runId>`: the run as it is; with `--follow`, its lifecycle events as they
 * happen (Server-Sent Events) until it ends, shown like an embedded run. Exit 0 when it
 * completed, 1 when it ended otherwise. `--json` (without --follow): the document `weft runs show --json` prints.
 */
export async function logsCommand(runId: string, flags: ApiFlags & { follow?: boolean; json?: boolean }, io: Io): Promise<number> {
  if (flags.json && !flags.follow) return runsShow(runId, flags, io);
  return withApi(io, async () => {
    // The live view is for people; a script asks again when the run has ended.
    if (flags.json) throw new CliUsageError('--json prints the run as it is: drop --follow (or wait for the end with weft runs output)');
    const client = apiClient(flags);
    if (!flags.follow) {
      const run = await client.runs.get(runId);
      printRun(run, io);
      return EXIT.ok;
    }
    const state = await followRun(client.runs.stream(runId), io);
    if (!state) {
      io.err('the stream ended before the run did');
      return EXIT.internal;
    }
    return state.status === 'completed' ? EXIT.ok : EXIT.runFailed;
  });
}
