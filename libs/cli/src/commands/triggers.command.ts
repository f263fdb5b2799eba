import { readFile } from 'node:fs/promises';
import { type ApiFlags, apiClient, CliUsageError, withApi } from '../api-client/api-connection';
import { table } from '../api-client/table.util';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { inputsFromFlags } from './run-inputs.util';

/** `weft triggers …`: the triggers of the published versions (docs/triggers.md), over the API. */
type Flags = ApiFlags & { json?: boolean };

const print = (io: Io, value: unknown): void => io.out(JSON.stringify(value, null, 2));

/** `weft triggers list`: every trigger with kind, state, next and last fire, outcome counts. */
export function triggersList(flags: Flags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const triggers = await apiClient(flags, env).triggers.list();
    if (flags.json) print(io, triggers);
    else if (triggers.length === 0) io.out('no triggers (they come from the published version of a workflow)');
    else {
      table(
        io,
        ['WORKFLOW', 'TRIGGER', 'KIND', 'STATE', 'NEXT FIRE', 'LAST FIRE', 'FIRED', 'OTHER'],
        triggers.map((t) => {
          const fired = t.counts['fired'] ?? 0;
          const other = Object.entries(t.counts)
            .filter(([k]) => k !== 'fired')
            .map(([k, n]) => `${k} ${n}`)
            .join(', ');
          return [t.workflow, t.trigger, t.kind, t.state, t.nextFireAt ?? '-', t.lastFire ? `${t.lastFire.outcome} ${t.lastFire.at}` : '-', String(fired), other || '-'];
        }),
      );
    }
    return EXIT.ok;
  });
}

/** `weft triggers fires <workflow> <trigger>`: the fire log, newest first. */
export function triggersFires(workflow: string, trigger: string, flags: Flags & { limit?: string; outcome?: string }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const limit = flags.limit === undefined ? undefined : Number(flags.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) throw new CliUsageError('--limit: 1..500');
    const page = await apiClient(flags, env).triggers.fires(workflow, trigger, { ...(limit !== undefined && { limit }), ...(flags.outcome && { outcome: flags.outcome }) });
    if (flags.json) print(io, page);
    else if (page.fires.length === 0) io.out('no fires yet');
    else table(io, ['AT', 'OCCURRENCE', 'OUTCOME', 'RUN', 'REASON'], page.fires.map((f) => [f.at, f.occurrence, f.outcome, f.runId ?? '-', f.reason ?? '']));
    return EXIT.ok;
  });
}

/** `weft triggers pause|resume <workflow> <trigger>`. */
export function triggersSetPaused(paused: boolean, workflow: string, trigger: string, flags: Flags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const client = apiClient(flags, env).triggers;
    const result = paused ? await client.pause(workflow, trigger) : await client.resume(workflow, trigger);
    if (flags.json) print(io, result);
    else io.out(`${workflow}/${trigger}: ${result.state}`);
    return EXIT.ok;
  });
}

/** `weft triggers fire <workflow> <trigger> [--input k=v] [--inputs-file f] [--key k]`: a run now. */
export function triggersFire(workflow: string, trigger: string, flags: Flags & { input?: string[]; inputsFile?: string; key?: string }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const inputs = await inputsFromFlags(flags);
    const result = await apiClient(flags, env).triggers.fire(workflow, trigger, { inputs, ...(flags.key && { key: flags.key }) });
    if (flags.json) print(io, result);
    else io.out(result.runId ? `${result.outcome}: run ${result.runId}` : `${result.outcome}${result.reason ? `: ${result.reason}` : ''}`);
    return EXIT.ok;
  });
}

/** `weft triggers backfill <workflow> <trigger> --from <iso> --to <iso>`: one run per cron tick in the range. */
export function triggersBackfill(workflow: string, trigger: string, flags: Flags & { from?: string; to?: string }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    if (!flags.from || !flags.to) throw new CliUsageError('backfill needs --from and --to (ISO-8601 times)');
    const result = await apiClient(flags, env).triggers.backfill(workflow, trigger, { from: flags.from, to: flags.to });
    if (flags.json) print(io, result);
    else {
      const counts = new Map<string, number>();
      for (const r of result.results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
      io.out(`${result.ticks} tick(s): ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ') || 'nothing'}`);
    }
    return EXIT.ok;
  });
}

/**
 * `weft triggers test <workflow> <trigger> [--event file.json] [--body file --header k:v] [--at iso]`:
 * what the trigger would do (filter, dedupe key, inputs, refusal); starts nothing.
 */
export function triggersTest(
  workflow: string,
  trigger: string,
  flags: Flags & { event?: string; body?: string; header?: string[]; at?: string },
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return withApi(io, async () => {
    const sample: { event?: unknown; body?: string; headers?: Record<string, string>; at?: string } = {};
    if (flags.event) sample.event = await readJson(flags.event, '--event');
    if (flags.body) sample.body = await readText(flags.body, '--body');
    if (flags.header?.length) {
      sample.headers = {};
      for (const h of flags.header) {
        const colon = h.indexOf(':');
        if (colon <= 0) throw new CliUsageError(`--header ${h}: expected name:value`);
        sample.headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
      }
    }
    if (flags.at) sample.at = flags.at;
    const result = await apiClient(flags, env).triggers.test(workflow, trigger, sample);
    print(io, result);
    return result.refused || result.error ? EXIT.invalid : EXIT.ok;
  });
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliUsageError(`${flag} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function readJson(path: string, flag: string): Promise<unknown> {
  const text = await readText(path, flag);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliUsageError(`${flag} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
