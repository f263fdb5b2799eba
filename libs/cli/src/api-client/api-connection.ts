import { ConfigError, loadConfig } from '@weft/config';
import { WeftApiError, WeftClient, WeftConnectionError } from '@weft/sdk';
import { CliUsageError } from '../cli-usage.error';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

/** `--api <url>` and `--api-key <key>`, shared by every verb that talks to a deployment. */
export interface ApiFlags {
  api?: string;
  apiKey?: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** The client the flags (or WEFT_API_URL / WEFT_API_KEY) point at. */
export function apiClient(flags: ApiFlags, env: NodeJS.ProcessEnv = process.env): WeftClient {
  const config = loadConfig(env);
  const url = flags.api ?? config.WEFT_API_URL ?? DEFAULT_API_URL;
  if (!/^https?:\/\/\S+$/.test(url)) throw new CliUsageError(`--api: expected a URL such as ${DEFAULT_API_URL} (got ${JSON.stringify(url)})`);
  const apiKey = flags.apiKey ?? config.WEFT_API_KEY;
  return new WeftClient({ url: url.replace(/\/v1\/?$/, ''), fetch: asCli, ...(apiKey !== undefined && { apiKey }) });
}

/** Names the CLI to the API (`Weft-Source: cli`), so the runs it starts keep source `cli`. */
export const asCli = (url: string, init: RequestInit): Promise<Response> => {
  const headers = new Headers(init.headers);
  headers.set('Weft-Source', 'cli');
  return globalThis.fetch(url, { ...init, headers });
};

export { CliUsageError };

/**
 * Runs a verb and turns what the API refused into a message and an exit code: the
 * problem's detail and every field error; 2 for a 4xx or a bad command line, 70 for a 5xx or
 * an API that cannot be reached (as `weft history` and `weft insights`: the request was fine).
 */
export async function withApi(io: Io, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WeftApiError) {
      io.err(`${error.problem.title} (${error.problem.code}): ${error.problem.detail}`);
      for (const e of error.problem.errors ?? []) io.err(`  ${e.line !== undefined ? `${e.line}:${e.col ?? 1} ` : ''}${e.path}: ${e.message}`);
      return error.status >= 500 ? EXIT.internal : EXIT.invalid;
    }
    if (error instanceof WeftConnectionError) {
      io.err(error.message);
      return EXIT.internal;
    }
    if (error instanceof CliUsageError || error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.invalid;
    }
    throw error;
  }
}
