import { readFile } from 'node:fs/promises';
import { CliUsageError } from '../cli-usage.error';

/**
 * The inputs a command line gives a run: `--inputs-file` (a JSON object), then each
 * `--input name=value` over it. Values stay strings; resolveInputs(…, { fromStrings: true })
 * types them by the spec. A bad flag is a CliUsageError (exit 2).
 */
export async function inputsFromFlags(flags: { input?: string[]; inputsFile?: string }): Promise<Record<string, unknown>> {
  return { ...(await readInputsFile(flags.inputsFile)), ...parseInputFlags(flags.input ?? []) };
}

async function readInputsFile(path: string | undefined): Promise<Record<string, unknown>> {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CliUsageError(`--inputs-file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliUsageError(`--inputs-file ${path}: expected a JSON object`);
  return parsed as Record<string, unknown>;
}

function parseInputFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new CliUsageError(`--input ${flag}: expected name=value`);
    out[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return out;
}
