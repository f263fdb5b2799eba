import { apiClient, withApi } from '../api-client/api-connection';
import { table } from '../api-client/table.util';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import type { RunsFlags } from './runs.command';

/** `weft runs why <id>`: for every unfinished step, the one reason it has not moved and since when. */
export async function runsWhy(runId: string, flags: RunsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const why = await apiClient(flags).runs.why(runId);
    if (flags.json) io.out(JSON.stringify(why, null, 2));
    else if (why.steps.length === 0) io.out(`run ${why.runId} is ${why.status}: nothing waits`);
    else {
      io.out(`run ${why.runId} is ${why.status} (as of ${why.at})`);
      table(io, ['STEP', 'STATUS', 'WAITING ON', 'SINCE', 'WHY'], why.steps.map((s) => [s.stepId, s.status, s.reason.kind, s.since ?? '-', s.text]));
    }
    return EXIT.ok;
  });
}
