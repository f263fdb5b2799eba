import { readFile } from 'node:fs/promises';
import { actorLabel, REVIEW_DECISIONS, type ReviewDecision } from '@weft/contracts';
import { type ApiFlags, apiClient, CliUsageError, withApi } from '../api-client/api-connection';
import { table } from '../api-client/table.util';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import type { ExceptionItem } from '@weft/sdk';

/** `weft signal` and `weft reviews …`: durable waits over the API (docs/waits-and-reviews.md). */
type Flags = ApiFlags & { json?: boolean };

const print = (io: Io, value: unknown): void => io.out(JSON.stringify(value, null, 2));

/** `--data '{"a":1}'` or `--data @file.json`: a JSON value. */
export async function jsonArgument(flag: string, text: string | undefined): Promise<unknown> {
  if (text === undefined) return undefined;
  const raw = text.startsWith('@') ? await readFile(text.slice(1), 'utf8').catch((error: unknown) => {
    throw new CliUsageError(`${flag}: cannot read ${text.slice(1)}: ${error instanceof Error ? error.message : String(error)}`);
  }) : text;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new CliUsageError(`${flag} must be JSON (or @file holding JSON), e.g. ${flag} '{"amount": 120}'`);
  }
}

/** `weft signal <name> [--key k] [--data json|@file] [--id x]`: sends one signal. */
export function signalSend(name: string, flags: Flags & { key?: string; data?: string; id?: string }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const data = await jsonArgument('--data', flags.data);
    const signal = await apiClient(flags, env).signals.send({ name, ...(flags.key !== undefined && { key: flags.key }), ...(data !== undefined && { data }), ...(flags.id !== undefined && { id: flags.id }) });
    if (flags.json) print(io, signal);
    else io.out(`signal ${signal.name}${signal.key === null ? '' : ` (key ${signal.key})`} stored as ${signal.id} at ${signal.receivedAt}`);
    return EXIT.ok;
  });
}

/** `weft signals [--name n] [--key k] [--since iso]`: signals received, oldest first. */
export function signalsList(flags: Flags & { name?: string; key?: string; since?: string }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const page = await apiClient(flags, env).signals.list({ ...(flags.name && { name: flags.name }), ...(flags.key && { key: flags.key }), ...(flags.since && { since: flags.since }), limit: 200 });
    if (flags.json) print(io, page);
    else if (page.items.length === 0) io.out('no signals');
    else table(io, ['RECEIVED', 'NAME', 'KEY', 'ID', 'DATA'], page.items.map((s) => [s.receivedAt, s.name, s.key ?? '-', s.id, JSON.stringify(s.data).slice(0, 60)]));
    return EXIT.ok;
  });
}

/** `weft audit [--target kind:id] [--actor keyId|local] [--action a] [--since iso]`: the audit log, oldest first. */
export function auditList(flags: Flags & { target?: string; actor?: string; action?: string; since?: string }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const page = await apiClient(flags, env).audit({
      ...(flags.target && { target: flags.target }),
      ...(flags.actor && { actor: flags.actor }),
      ...(flags.action && { action: flags.action }),
      ...(flags.since && { since: flags.since }),
      limit: 200,
    });
    if (flags.json) print(io, page);
    else if (page.items.length === 0) io.out('no audit records');
    else table(io, ['AT', 'ACTOR', 'ACTION', 'TARGET', 'DETAILS'], page.items.map((r) => [r.at, actorLabel(r.actor), r.action, `${r.target.kind}:${r.target.id}`, JSON.stringify(r.details)]));
    return EXIT.ok;
  });
}

const EXCEPTION_KINDS = ['review', 'low-confidence', 'blocked', 'failed', 'dead-letter'] as const;
type ExceptionKindFlag = (typeof EXCEPTION_KINDS)[number];
const exceptionKind = (kind: string): ExceptionKindFlag => {
  if (!(EXCEPTION_KINDS as readonly string[]).includes(kind)) throw new CliUsageError(`kind must be one of ${EXCEPTION_KINDS.join(', ')}`);
  return kind as ExceptionKindFlag;
};

/** `weft exceptions list [--kind k] [--workflow w] [--since iso] [--resolved]`: what needs a person. */
export function exceptionsList(flags: Flags & { kind?: string; workflow?: string; since?: string; resolved?: boolean }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const page = await apiClient(flags, env).exceptions.list({
      ...(flags.kind !== undefined && { kind: exceptionKind(flags.kind) }),
      ...(flags.workflow && { workflow: flags.workflow }),
      ...(flags.since && { since: flags.since }),
      ...(flags.resolved === true && { resolved: true }),
      limit: 200,
    });
    if (flags.json) print(io, page);
    else if (page.items.length === 0) io.out('nothing needs a person');
    else table(io, ['KIND', 'ID', 'WORKFLOW', 'STEP', 'SINCE', 'SUMMARY'], page.items.map((i) => [i.kind, i.id, i.workflow, i.stepId ?? '-', i.at, `${i.summary}${i.resolved ? ` (resolved: ${i.resolved.note})` : ''}`]));
    return EXIT.ok;
  });
}

/** `weft exceptions resolve <kind> <id> --note text`: out of the queue, kept in history. */
export function exceptionsResolve(kind: string, id: string, flags: Flags & { note?: string }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    if (flags.note === undefined || flags.note === '') throw new CliUsageError('resolve needs --note <text>');
    const result = await apiClient(flags, env).exceptions.resolve(exceptionKind(kind), id, flags.note);
    if (flags.json) print(io, result);
    else io.out(`${kind} ${id}: resolved`);
    return EXIT.ok;
  });
}

/**
 * `weft exceptions retry|cancel [<kind> <id>] [--kind k] [--workflow w] [--since t]`: one item
 * (a failed run is retried, a stuck run resumed, the item's run canceled) or, without an id,
 * every open item the filter matches (`POST /v1/exceptions/bulk`).
 */
export function exceptionsAct(
  action: 'retry' | 'cancel',
  kind: string | undefined,
  id: string | undefined,
  flags: Flags & { kind?: string; workflow?: string; since?: string },
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return withApi(io, async () => {
    const client = apiClient(flags, env);
    if (kind === undefined || id === undefined) {
      if (kind !== undefined) throw new CliUsageError(`${action} needs <kind> <id>, or no arguments and filter flags`);
      const filter = { ...(flags.kind !== undefined && { kind: exceptionKind(flags.kind) }), ...(flags.workflow && { workflow: flags.workflow }), ...(flags.since && { since: flags.since }) };
      const result = await client.exceptions.bulk(filter, action);
      if (flags.json) print(io, result);
      else io.out(`${action}: ${result.done} of ${result.matched} item(s) done, ${result.skipped} skipped${result.more ? ' (more match: run again)' : ''}`);
      return EXIT.ok;
    }
    const item = await findItem(client, exceptionKind(kind), id);
    // A queue without a worker and a dead letter name a run as an example: what they need is a worker or a note.
    if (item.kind === 'dead-letter' || item.id.startsWith('queue:')) {
      const fix = item.kind === 'dead-letter' ? `act on its run ${item.runId} (weft runs)` : 'start a worker for the queue';
      throw new CliUsageError(`${item.kind} ${item.id} is not a run to ${action}: ${fix}, then weft exceptions resolve ${item.kind} ${item.id} --note <text>`);
    }
    if (action === 'cancel') await client.runs.cancel(item.runId, 'canceled from the exception queue');
    else if (item.kind === 'failed') await client.runs.retry(item.runId);
    else if (item.kind === 'blocked' && item.id === item.runId) await client.runs.resume(item.runId);
    else throw new CliUsageError(`a ${item.kind} item is a review: decide it with weft reviews decide ${item.id} retry`);
    if (flags.json) print(io, { kind: item.kind, id: item.id, runId: item.runId, action });
    else io.out(`${item.kind} ${item.id}: ${action === 'cancel' ? 'run canceled' : item.kind === 'failed' ? 'run retried' : 'run resumed'}`);
    return EXIT.ok;
  });
}

/** `weft exceptions show <kind> <id>`: one item, resolved or not. */
export function exceptionsShow(kind: string, id: string, flags: Flags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const item = await findItem(apiClient(flags, env), exceptionKind(kind), id);
    if (flags.json) print(io, item);
    else {
      io.out(`${item.kind} ${item.id}  (${item.workflow}, run ${item.runId}${item.stepId !== null ? `, step ${item.stepId}` : ''})`);
      io.out(`since ${item.at}: ${item.summary}`);
      if (item.resolved) io.out(`resolved ${item.resolved.at} by ${actorLabel(item.resolved.actor)}: ${item.resolved.note}`);
    }
    return EXIT.ok;
  });
}

/** Pages through the queue (resolved items too) for one item; bounded by MAX_SHOW_PAGES. */
async function findItem(client: ReturnType<typeof apiClient>, kind: ExceptionKindFlag, id: string): Promise<ExceptionItem> {
  let cursor: string | undefined;
  for (let pages = 0; pages < MAX_SHOW_PAGES; pages++) {
    const page = await client.exceptions.list({ kind, resolved: true, limit: 200, ...(cursor !== undefined && { cursor }) });
    const found = page.items.find((i) => i.id === id);
    if (found) return found;
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  throw new CliUsageError(`no ${kind} item ${id} in the exception queue`);
}

const MAX_SHOW_PAGES = 50;

/** `weft reviews list [--status s] [--workflow w] [--assignee a]`. */
export function reviewsList(flags: Flags & { status?: string; workflow?: string; assignee?: string }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const status = flags.status ?? 'open';
    if (status !== 'open' && status !== 'decided' && status !== 'canceled') throw new CliUsageError('--status: open, decided or canceled');
    const page = await apiClient(flags, env).reviews.list({ status, ...(flags.workflow && { workflow: flags.workflow }), ...(flags.assignee && { assignee: flags.assignee }), limit: 200 });
    if (flags.json) print(io, page);
    else if (page.items.length === 0) io.out(`no ${status} reviews`);
    else {
      table(
        io,
        ['ID', 'WORKFLOW', 'STEP', 'KIND', 'ASSIGNEES', 'OPENED', 'DEADLINE', status === 'open' ? 'TITLE' : 'DECISION'],
        page.items.map((r) => [r.id, r.workflow, r.stepId, r.kind, r.assignees.join(',') || '-', r.openedAt, r.deadlineAt ?? '-', status === 'open' ? r.title : `${r.decision ?? r.status}${r.actor ? ` by ${actorLabel(r.actor)}` : ''}`]),
      );
    }
    return EXIT.ok;
  });
}

/** `weft reviews show <id>`: the output under review, the form and the decision so far. */
export function reviewsShow(id: string, flags: Flags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const review = await apiClient(flags, env).reviews.get(id);
    if (flags.json) {
      print(io, review);
      return EXIT.ok;
    }
    io.out(`${review.title}`);
    io.out(`  review ${review.id} (${review.status}${review.kind === 'low-confidence' ? ', low confidence' : ''}) of ${review.workflow} run ${review.runId}, step ${review.stepId} attempt ${review.attempt}`);
    io.out(`  assignees: ${review.assignees.join(', ') || '-'}${review.tier > 0 ? ` (escalation tier ${review.tier})` : ''}; opened ${review.openedAt}${review.deadlineAt ? `; deadline ${review.deadlineAt}` : ''}`);
    if (review.instructions) io.out(`  ${review.instructions}`);
    io.out('output:');
    io.out(JSON.stringify(review.output, null, 2));
    if (review.form) io.out(`correction form: ${JSON.stringify(review.form)}`);
    if (review.decision) io.out(`decided: ${review.decision}${review.actor ? ` by ${actorLabel(review.actor)}` : ''} at ${review.decidedAt ?? '?'}${review.comment ? ` — ${review.comment}` : ''}`);
    else io.out(`decide: weft reviews decide ${review.id} <${REVIEW_DECISIONS.join('|')}> [--payload json|@file] [--comment text]`);
    return EXIT.ok;
  });
}

/** `weft reviews decide <id> <decision> [--payload json|@file] [--comment text]`. */
export function reviewsDecide(id: string, decision: string, flags: Flags & { payload?: string; comment?: string }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    if (!(REVIEW_DECISIONS as readonly string[]).includes(decision)) throw new CliUsageError(`decision must be one of ${REVIEW_DECISIONS.join(', ')}`);
    const payload = await jsonArgument('--payload', flags.payload);
    const result = await apiClient(flags, env).reviews.decide(id, {
      decision: decision as ReviewDecision,
      ...(payload !== undefined && { payload }),
      ...(flags.comment !== undefined && { comment: flags.comment }),
    });
    if (flags.json) print(io, result);
    else io.out(`review ${id}: ${result.review.decision ?? decision}${result.review.status === 'open' ? ` (now tier ${result.review.tier})` : ''}; run ${result.review.runId} is ${result.runStatus}`);
    return EXIT.ok;
  });
}
