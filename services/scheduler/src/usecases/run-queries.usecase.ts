import { isTerminalRunStatus, parseDuration, RUN_STATUSES, type RunState, type RunStatus } from '@weft/core';
import { ApiError, type FieldProblem } from '../api/http/api.errors';
import type { RunAccess } from './run-access';
import type { RunCursor, RunLinks, RunListing, SqlRunDirectory } from '../persistence/run-directory.repository';

export interface RunListQuery {
  workflow?: string;
  status?: string;
  since?: string;
  until?: string;
  correlationId?: string;
  prefix?: string;
  limit?: string;
  cursor?: string;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;

/** Reading runs of one namespace: one run, its outputs, listings a page at a time. */
export class RunQueriesUseCase {
  constructor(
    private readonly runs: Pick<RunAccess, 'get' | 'getWithLink'>,
    private readonly directory: Pick<SqlRunDirectory, 'list' | 'links'>,
    private readonly now: () => Promise<number>,
  ) {}

  get(namespace: string, runId: string): Promise<{ state: RunState; link: RunLinks }> {
    return this.runs.getWithLink(namespace, runId);
  }

  /** Where a run came from (a rerun's source) and its re-runs; the caller already checked the run is visible. */
  link(runId: string): Promise<RunLinks> {
    return this.directory.links(runId);
  }

  /** A finished run's outputs; RUN_NOT_FINISHED while it runs. */
  async output(namespace: string, runId: string): Promise<RunState> {
    const state = await this.runs.get(namespace, runId);
    if (!isTerminalRunStatus(state.status)) throw new ApiError('RUN_NOT_FINISHED', `run ${runId} is ${state.status}: its outputs exist once it ends`);
    return state;
  }

  async list(namespace: string, query: RunListQuery): Promise<{ items: RunListing[]; nextCursor: string | null }> {
    const problems: FieldProblem[] = [];
    const status = query.status === undefined ? undefined : parseStatuses(query.status, problems);
    const now = query.since !== undefined || query.until !== undefined ? await this.now() : 0;
    const since = query.since === undefined ? undefined : parseTime(query.since, now, 'query.since', problems);
    const until = query.until === undefined ? undefined : parseTime(query.until, now, 'query.until', problems);
    const limit = query.limit === undefined ? DEFAULT_PAGE : Number(query.limit);
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE)) problems.push({ path: 'query.limit', message: `expected 1 to ${MAX_PAGE}` });
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, problems);
    if (problems.length > 0) throw new ApiError('INVALID_REQUEST', problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
    // One more than asked tells whether another page exists.
    const rows = await this.directory.list(
      namespace,
      {
        ...(query.workflow !== undefined && { workflow: query.workflow }),
        ...(status && { status }),
        ...(since !== undefined && { since }),
        ...(until !== undefined && { until }),
        ...(query.correlationId !== undefined && { correlationId: query.correlationId }),
        ...(query.prefix !== undefined && { prefix: query.prefix }),
      },
      { ...(cursor && { cursor }), limit: limit + 1 },
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, runId: last.runId }) : null };
  }
}

const KNOWN: ReadonlySet<string> = new Set(RUN_STATUSES);

function parseStatuses(text: string, problems: FieldProblem[]): RunStatus[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = parts.filter((s) => !KNOWN.has(s));
  if (unknown.length > 0) problems.push({ path: 'query.status', message: `unknown status(es) ${unknown.join(', ')}; expected ${RUN_STATUSES.join(', ')}` });
  return parts as RunStatus[];
}

/** ISO 8601, or a duration (`24h`) back from now. */
function parseTime(text: string, now: number, path: string, problems: FieldProblem[]): number | undefined {
  if (/^(\d+(ms|s|m|h|d))+$/.test(text)) return now - parseDuration(text);
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) {
    problems.push({ path, message: `expected an ISO 8601 time or a duration such as 24h (got ${JSON.stringify(text)})` });
    return undefined;
  }
  return time;
}

export function encodeCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.runId])).toString('base64url');
}

function decodeCursor(text: string, problems: FieldProblem[]): RunCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isInteger(value[0]) && typeof value[1] === 'string') return { createdAt: value[0] as number, runId: value[1] };
  } catch {
    // Reported below.
  }
  problems.push({ path: 'query.cursor', message: 'not a cursor this API gave out' });
  return undefined;
}
