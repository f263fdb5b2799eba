import { EXIT } from '../exit-codes';
import type { FetchLike } from '@weft/sdk';
import { renderHistory } from '../insights/history.view';
import { openHistoryReader, withReader } from '../insights/readers.util';
import type { Io } from '../io';

export interface HistoryOptions {
  json?: boolean;
  /** A deployment's API (http://host:port); absent: WEFT_API_URL, else the embedded database `weft dev` writes. */
  api?: string;
  /** API key for --api (default: WEFT_API_KEY). */
  apiKey?: string;
}

/** `weft history <runId>`: the run's story from the journal; exit 0, 2 when the run is unknown. */
export function historyCommand(runId: string, options: HistoryOptions, io: Io, env: NodeJS.ProcessEnv = process.env, fetchImpl?: FetchLike): Promise<number> {
  return withReader(openHistoryReader, options, { io, env, fetch: fetchImpl }, async (reader) => {
    const history = await reader.history(runId);
    if (options.json) io.out(JSON.stringify(history, null, 2));
    else for (const line of renderHistory(history)) io.out(line);
    return EXIT.ok;
  });
}
