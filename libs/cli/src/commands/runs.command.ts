import { RUN_STATUSES, type RunStatus } from '@weft/contracts';
import { formatMs } from '@weft/core';
import type { Checkpoint, Run } from '@weft/sdk';
import { type ApiFlags, apiClient, CliUsageError, withApi } from '../api-client/api-connection';
import { followRun } from '../api-client/follow-run';
import { runStateFromApi } from '../api-client/run-state.adapter';
import { printList, table } from '../api-client/table.util';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { runReport } from '../output/run-report';

export interface RunsFlags extends ApiFlags {
  json?: boolean;
}

export async function runsList(flags: RunsFlags & { workflow?: string; status?: string; since?: string; limit?: string }, io: Io): Promise<number> {
  return withApi(io, async () => {
    const status = flags.status?.split(',').map((s) => s.trim());
    const unknown = status?.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s)) ?? [];
    if (unknown.length > 0) throw new CliUsageError(`--status: unknown ${unknown.join(', ')}; expected ${RUN_STATUSES.join(', ')}`);
    const limit = flags.limit === undefined ? 20 : Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new CliUsageError('--limit: expected 1 to 200');
    const local = await listLocally(flags, io);
    if (local !== undefined) return local;
    const page = await apiClient(flags).runs.list({
      ...(flags.workflow && { workflow: flags.workflow }),
      ...(status && { status: status as RunStatus[] }),
      ...(flags.since && { since: flags.since }),
      limit,
    });
    printList(io, flags, {
      items: page.items,
      json: page,
      empty: 'no runs',
      header: ['RUN', 'WORKFLOW', 'VERSION', 'STATUS', 'CREATED', 'DURATION'],
      row: (r) => [r.runId, r.workflow, r.version, r.status, r.createdAt, r.durationMs === null ? '-' : formatMs(r.durationMs)],
    });
    return EXIT.ok;
  });
}

/** `weft runs show <id>`: the run's steps; `--json` is the document `weft run --json` prints. */
export async function runsShow(runId: string, flags: RunsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const run = await apiClient(flags).runs.get(runId);
    if (flags.json) io.out(JSON.stringify({ ...runReport(runStateFromApi(run)), version: run.version, namespace: run.namespace, rerunOf: run.rerunOf }, null, 2));
    else printRun(run, io);
    return EXIT.ok;
  });
}

export async function runsCancel(runId: string, flags: RunsFlags & { reason?: string }, io: Io): Promise<number> {
  return withApi(io, async () => {
    const run = await apiClient(flags).runs.cancel(runId, flags.reason);
    io.out(flags.json ? JSON.stringify(run, null, 2) : `run ${run.runId}: ${run.status}`);
    return EXIT.ok;
  });
}

export async function runsResume(runId: string, flags: RunsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const resumed = await apiClient(flags).runs.resume(runId);
    if (flags.json) io.out(JSON.stringify(resumed, null, 2));
    else {
      io.out(`run ${runId}: ${resumed.run.status}`);
      io.out(`  dispatched again: ${resumed.redispatched.join(', ') || 'none'}; retries now: ${resumed.flushed.join(', ') || 'none'}`);
    }
    return EXIT.ok;
  });
}

export async function runsRetry(runId: string, flags: RunsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const run = await apiClient(flags).runs.retry(runId);
    io.out(flags.json ? JSON.stringify(run, null, 2) : `run ${run.runId}: ${run.status} (retrying its failed, canceled and skipped steps)`);
    return EXIT.ok;
  });
}

/**
 * `weft runs output <runId>`: a finished run's status and outputs (its error when it failed);
 * 409 RUN_NOT_FINISHED (exit 2) while it runs. `--json` prints the API's answer.
 */
export async function runsOutput(runId: string, flags: RunsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const output = await apiClient(flags).runs.output(runId);
    if (flags.json) {
      io.out(JSON.stringify(output, null, 2));
      return EXIT.ok;
    }
    io.out(`run ${output.runId}: ${output.status}`);
    if (output.error) io.out(`  error: ${output.error.code} ${output.error.message}`);
    io.out(`outputs: ${output.outputs === null ? 'none' : JSON.stringify(output.outputs, null, 2)}`);
    return EXIT.ok;
  });
}

/** `weft runs rerun <id> --from <step>`: a new run; with --follow, shown to its end (exit like weft run). */
export async function runsRerun(runId: string, flags: RunsFlags & { from?: string; version?: string; follow?: boolean }, io: Io): Promise<number> {
  return withApi(io, async () => {
    const version = flags.version === undefined ? undefined : flags.version === 'published' ? 'published' : Number(flags.version);
    if (typeof version === 'number' && !(Number.isInteger(version) && version > 0)) throw new CliUsageError('--version: expected a version number or "published"');
    const client = apiClient(flags);
    const accepted = await client.runs.rerun(runId, { ...(flags.from && { from: flags.from }), ...(version !== undefined && { version }) });
    if (!flags.follow) {
      io.out(flags.json ? JSON.stringify(accepted, null, 2) : `run ${accepted.runId} started (rerun of ${runId}${flags.from ? ` from ${flags.from}` : ''})`);
      return EXIT.ok;
    }
    const state = await followRun(client.runs.stream(accepted.runId), io, { quiet: flags.json === true });
    if (!state) return EXIT.internal;
    if (flags.json) io.out(JSON.stringify(runReport(state), null, 2));
    return state.status === 'completed' ? EXIT.ok : EXIT.runFailed;
  });
}

/**
 * `weft runs checkpoints <runId> [stepId]`: from the journal, the checkpoint of every completed
 * step (step, attempt, time, output) or one step's in full (its output and the state up to it).
 * `--json` prints the API's answer as it is.
 */
export async function runsCheckpoints(runId: string, stepId: string | undefined, flags: RunsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    if (runId.trim() === '') throw new CliUsageError('<runId>: expected a run id');
    if (stepId?.trim() === '') throw new CliUsageError('[stepId]: expected a step id');
    const client = apiClient(flags);
    if (stepId !== undefined) {
      const checkpoint = await client.runs.checkpoint(runId, stepId);
      if (flags.json) io.out(JSON.stringify(checkpoint, null, 2));
      else printCheckpoint(checkpoint, io);
      return EXIT.ok;
    }
    const checkpoints = await client.runs.checkpoints(runId);
    if (flags.json) io.out(JSON.stringify(checkpoints, null, 2));
    else if (checkpoints.length === 0) io.out(`run ${runId}: no checkpoints (no step has completed)`);
    else {
      const [first] = checkpoints;
      io.out(`run ${runId}: ${first.workflow} version ${first.version}, ${checkpoints.length} checkpoint(s)`);
      table(
        io,
        ['STEP', 'ATTEMPT', 'TIME', 'OUTPUT'],
        checkpoints.map((c) => [c.stepId, c.attempt === null ? '-' : String(c.attempt), c.at, summary(c.output)]),
      );
    }
    return EXIT.ok;
  });
}

function printCheckpoint(checkpoint: Checkpoint, io: Io): void {
  io.out(`run ${checkpoint.runId}: ${checkpoint.workflow} version ${checkpoint.version}, checkpoint of ${checkpoint.stepId}`);
  io.out(`  attempt  ${checkpoint.attempt ?? '-'}`);
  io.out(`  time     ${checkpoint.at}`);
  io.out(`  event    ${checkpoint.eventId}`);
  io.out(`output: ${JSON.stringify(checkpoint.output, null, 2) ?? 'none'}`);
  const steps = Object.keys(checkpoint.state);
  io.out(`state (the outputs of ${steps.length} step(s) completed by then): ${steps.join(', ') || 'none'}`);
}

/** An output on one line, cut to fit a table cell. */
function summary(output: unknown, width = 60): string {
  const text = JSON.stringify(output) ?? '-';
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

function printRun(run: Run, io: Io): void {
  io.out(`run ${run.runId}: ${run.workflow} version ${run.version}, ${run.status}${run.durationMs === null ? '' : ` in ${formatMs(run.durationMs)}`}`);
  if (run.rerunOf) io.out(`  rerun of ${run.rerunOf.runId}${run.rerunOf.fromStep ? ` from ${run.rerunOf.fromStep}` : ''}`);
  if (run.parentRunId) io.out(`  child of ${run.parentRunId}`);
  for (const child of run.children ?? []) io.out(`  child run ${child.runId} (step ${child.stepId}, attempt ${child.attempt})`);
  if (run.error) io.out(`  error: ${run.error.code} ${run.error.message}`);
  table(
    io,
    ['STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'NOTE'],
    run.steps.map((s) => [
      s.id,
      s.status,
      String(s.attempts),
      s.durationMs === null ? '-' : formatMs(s.durationMs),
      s.reusedFrom ? `reused from ${s.reusedFrom}` : s.error ? `${s.error.code} ${s.error.message}` : '',
    ]),
  );
  if (run.outputs && Object.keys(run.outputs).length > 0) io.out(`outputs: ${JSON.stringify(run.outputs)}`);
}

export { printRun };

/**
 * Without --api or WEFT_API_URL, the runs `weft run` kept in the local store; undefined when
 * there is none, or when `weft dev` holds it (then its API answers, as for the other verbs).
 */
async function listLocally(flags: RunsFlags & { workflow?: string; status?: string; since?: string; limit?: string }, io: Io): Promise<number | undefined> {
  // Loaded here: the local store pulls in the scheduler and TypeORM, which the API verbs do not need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { localRunsList, localStoreApplies } = require('./local-runs') as typeof import('./local-runs');
  if (!localStoreApplies(flags)) return undefined;
  try {
    return await localRunsList(flags, io);
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'DB_LOCKED')) throw error;
    io.err(`${error.message.split('; ')[0]}: asking the API instead (--api to choose one)`);
    return undefined;
  }
}
