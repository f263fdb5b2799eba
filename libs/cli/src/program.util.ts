/** What main.ts and api-verbs.ts share while building the `weft` program. */

/**
 * Loads a module on first use, so `weft validate` does not pay for Nest and TypeORM.
 * (`import()` would need ESM resolution in this CommonJS build.)
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const lazy = <T>(path: string): T => require(path) as T;

export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** One wording for every verb that can talk to a deployment (history and insights included). */
export const API_URL_HELP = 'the deployment API (default: WEFT_API_URL, else http://127.0.0.1:8080)';
/** history and insights read the local store (weft dev's, weft run's) when no API is named. */
export const STORE_API_URL_HELP = 'the deployment API (default: WEFT_API_URL, else the local store)';
export const API_KEY_HELP = 'API key for --api (default: WEFT_API_KEY)';
