/**
 * The chain hop's PostgreSQL statement on its own: replays the scheduler's transition statements
 * recorded by bench/lib/pg-capture.preload.cjs (e.g. around `bench/hop-wire.ts 100 3`), in their
 * order, into a fresh database migrated to this checkout's schema, one connection, named prepared
 * statements and autocommit as the store sends them (synchronous commit), no NATS and no other
 * process. Per statement of a hop (a run's update): time to answer, and from a second pass under
 * EXPLAIN (ANALYZE, WAL, BUFFERS) the WAL records, bytes and full-page images, the buffers, and the
 * heap's HOT updates per table.
 *
 *   PG_CAPTURE_DIR=/tmp/cap NODE_OPTIONS="-r $PWD/bench/lib/pg-capture.preload.cjs -r $PWD/bench/lib/socket-timeline.preload.cjs" \
 *     SOCKET_TIMELINE_DIR=/tmp/tl node -r @swc-node/register bench/hop-wire.ts 100 3
 *   node -r @swc-node/register bench/hop-sql.ts /tmp/cap [reps=5] [--setup="ALTER TABLE ..."] [--drop=mark_write,...]
 *
 * --bare replaces each hop's statement by a one-row INSERT (a synchronous commit's floor on this machine);
 * --setup runs SQL (search_path weft) after the migrations; --drop removes the named CTEs' work from
 * every statement (to price a piece; a CTE others read cannot be dropped); --batch-events stores a
 * transition's lifecycle events as one batch row (storedWithEventBatches' form) instead of a row each.
 * Marks always name the rows the previous statement inserted. The reps alternate nothing: run two
 * invocations in turn to compare.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { OutboxMessage } from '../services/scheduler/src/ports/run-store.port';
import { openSqlRunStore } from '@weft/scheduler';
import { batchMessage, eventGroups } from '../services/scheduler/src/outbox/event-batches';
import { adminQuery, pgUrl } from './lib/pg.util';
import { quantile } from './lib/stats.util';

interface Captured {
  text: string;
  params: unknown[];
}

const TABLES = ['runs', 'step_runs', 'outbox', 'timers', 'hop_bare'];
const BARE = 'INSERT INTO hop_bare (v) VALUES ($1)';

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const dir = args[0];
  if (!dir) throw new Error('usage: hop-sql.ts <capture dir> [reps]');
  const reps = Number(args[1] ?? 5);
  const drop = (flag('drop') ?? '').split(',').filter(Boolean);
  const statements: Captured[] = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Captured)
    .map((s) => ({ ...s, text: drop.reduce(dropCte, s.text) }));
  const isHop = (s: Captured) => /run_write AS \(\s*UPDATE runs/.test(s.text) || s.text.startsWith(BARE);
  // --bare: every hop's statement replaced by a one-row INSERT (the floor: a round trip and a synchronous commit).
  if (process.argv.includes('--bare')) statements.forEach((s, i) => isHop(s) && (statements[i] = { text: BARE, params: [i] }));
  const database = `hop_sql_${process.pid}`;
  await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${database}`);
  const opened = await openSqlRunStore({ kind: 'postgres', url: pgUrl(database), schema: 'weft' });
  await opened.store.close();
  await opened.dataSource.destroy();
  const client = new pg.Client({ connectionString: pgUrl(database) });
  await client.connect();
  try {
    await client.query('SET search_path = weft');
    await client.query('CREATE TABLE hop_bare (id bigserial PRIMARY KEY, v int)');
    const setup = flag('setup');
    if (setup) await client.query(setup);
    const batchEvents = process.argv.includes('--batch-events');
    if (batchEvents) statements.forEach((s, i) => (statements[i] = withEventBatchRows(s)));
    const names = new Map<string, string>();
    const name = (text: string) => names.get(text) ?? (names.set(text, `s${names.size}`), `s${names.size - 1}`);
    const truncate = `TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`;
    const hopTimes: number[] = [];
    const totals: number[] = [];
    const backend = ((await client.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
    const cpuFrom = backendCpuMs(backend);
    for (let r = 0; r < reps; r++) {
      await client.query(truncate);
      const from = performance.now();
      let previous: string[] = [];
      for (const s of statements) {
        const at = performance.now();
        const rows = (await client.query({ name: name(s.text), text: s.text, values: withMarks(s, previous) })).rows as { outbox_ids?: string[] | null }[];
        if (isHop(s)) hopTimes.push(performance.now() - at);
        previous = rows[0]?.outbox_ids ?? [];
      }
      totals.push(performance.now() - from);
    }
    const backendCpu = backendCpuMs(backend) - cpuFrom;
    // One more pass under EXPLAIN: executes (and commits) each statement for real.
    await client.query(truncate);
    await client.query('SELECT pg_stat_reset()');
    const wal = { records: [] as number[], bytes: [] as number[], fpi: [] as number[], hit: [] as number[], dirtied: [] as number[], ms: [] as number[], triggers: [] as number[] };
    let previousMax = 0;
    const perCte = new Map<string, { records: number; bytes: number; hit: number; n: number }>();
    let previous: string[] = [];
    for (const s of statements) {
      const marked = withMarks(s, previous);
      const rows = (await client.query({ text: `EXPLAIN (ANALYZE, WAL, BUFFERS, FORMAT JSON) ${s.text}`, values: marked })).rows as { 'QUERY PLAN': ExplainRoot[] }[];
      // The outbox ids the statement inserted, for the next one's marks (EXPLAIN returns no rows: read them back).
      if (/outbox_write/.test(s.text)) {
        const ids = (await client.query('SELECT id::text FROM outbox WHERE id > $1 ORDER BY id', [previousMax])).rows as { id: string }[];
        previous = ids.map((row) => row.id);
        previousMax = previous.length > 0 ? Number(previous[previous.length - 1]) : previousMax;
      }
      if (!isHop(s)) continue;
      // A CTE's node counts its own work; the root does not count CTEs run at the executor's end (step_write, mark_write).
      const root = rows[0]['QUERY PLAN'][0];
      const ctes = (root.Plan.Plans ?? []).filter((node) => String(node['Subplan Name'] ?? '').startsWith('CTE '));
      const sum = (key: string) => ctes.reduce((total, node) => total + Number(node[key] ?? 0), 0);
      for (const node of ctes) {
        const key = String(node['Subplan Name']).slice(4);
        const entry = perCte.get(key) ?? { records: 0, bytes: 0, hit: 0, n: 0 };
        entry.records += Number(node['WAL Records'] ?? 0);
        entry.bytes += Number(node['WAL Bytes'] ?? 0);
        entry.hit += Number(node['Shared Hit Blocks'] ?? 0);
        entry.n += 1;
        perCte.set(key, entry);
      }
      wal.records.push(sum('WAL Records'));
      wal.bytes.push(sum('WAL Bytes'));
      wal.fpi.push(sum('WAL FPI'));
      wal.hit.push(sum('Shared Hit Blocks'));
      wal.dirtied.push(sum('Shared Dirtied Blocks'));
      wal.ms.push(root['Execution Time']);
      wal.triggers.push((root.Triggers ?? []).reduce((total, t) => total + t.Time, 0));
    }
    await client.query('SELECT pg_stat_force_next_flush()');
    const stats = (
      await client.query(
        `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, pg_relation_size(relid) AS bytes FROM pg_stat_user_tables
         WHERE schemaname = 'weft' AND relname = ANY($1) ORDER BY relname`,
        [TABLES],
      )
    ).rows as { relname: string; n_tup_ins: string; n_tup_upd: string; n_tup_hot_upd: string; n_tup_del: string; bytes: string }[];
    const hops = statements.filter(isHop).length;
    const med = (xs: number[]) => quantile(xs, 0.5);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`${statements.length} statements (${hops} hops) x ${reps}${setup ? `, setup: ${setup}` : ''}${drop.length ? `, without ${drop.join(', ')}` : ''}`);
    console.log(`hop statement, ms: median ${med(hopTimes).toFixed(3)}, p90 ${quantile(hopTimes, 0.9).toFixed(3)}, mean ${mean(hopTimes).toFixed(3)}`);
    console.log(`backend CPU per statement (/proc, ${reps} replays): ${(backendCpu / (statements.length * reps)).toFixed(3)} ms`);
    console.log(`replay, ms: ${totals.map((t) => t.toFixed(0)).join(', ')}`);
    console.log(
      `per hop (EXPLAIN pass, mean): WAL records ${mean(wal.records).toFixed(1)}, bytes ${mean(wal.bytes).toFixed(0)}, FPI ${mean(wal.fpi).toFixed(2)}; ` +
        `buffers hit ${mean(wal.hit).toFixed(1)}, dirtied ${mean(wal.dirtied).toFixed(2)}; execution ms median ${med(wal.ms).toFixed(3)} (foreign-key triggers ${mean(wal.triggers).toFixed(3)})`,
    );
    console.log(`  per CTE, mean per hop: ${[...perCte].map(([key, e]) => `${key} ${(e.records / hops).toFixed(1)} records ${(e.bytes / hops).toFixed(0)} B ${(e.hit / hops).toFixed(1)} hits`).join('; ')}`);
    for (const s of stats) {
      console.log(`  ${s.relname}: ins ${s.n_tup_ins}, upd ${s.n_tup_upd} (HOT ${s.n_tup_hot_upd}), del ${s.n_tup_del}, ${(Number(s.bytes) / 8192).toFixed(0)} pages`);
    }
  } finally {
    await client.end();
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

/** The index of the parameter a CTE reads as a jsonb array (`<cte> AS (... jsonb_array_elements[_text]($n::jsonb)`). */
function cteParam(text: string, cte: string, fn: string): number | undefined {
  const at = text.indexOf(`${cte} AS (`);
  if (at < 0) return undefined;
  const match = new RegExp(`${fn}\\(\\$(\\d+)::jsonb\\)`).exec(text.slice(at));
  return match ? Number(match[1]) - 1 : undefined;
}

/** The statement's marks: the outbox rows the previous statement inserted (a chain's marks ride the next hop). */
function withMarks(s: Captured, previous: string[]): unknown[] {
  const i = cteParam(s.text, 'mark_write', 'jsonb_array_elements_text');
  if (i === undefined) return s.params;
  const params = [...s.params];
  params[i] = JSON.stringify(previous);
  return params;
}

/** --batch-events: a transition's lifecycle events stored as one batch row (storedWithEventBatches' rows), not a row each. */
function withEventBatchRows(s: Captured): Captured {
  const i = cteParam(s.text, 'outbox_write', 'jsonb_array_elements');
  if (i === undefined) return s;
  const messages = JSON.parse(String(s.params[i])) as (OutboxMessage & { claim: boolean })[];
  const runId = (messages.find((m) => (m.payload as { runId?: string })?.runId) ?.payload as { runId: string } | undefined)?.runId ?? '';
  const rows = eventGroups(messages, () => runId).map((group) =>
    group.length === 1 ? messages[group[0]] : { ...batchMessage(group.map((g) => messages[g]), runId, true), claim: messages[group[0]].claim },
  );
  const params = [...s.params];
  params[i] = JSON.stringify(rows);
  return { ...s, params };
}

/** utime + stime of a local process, ms (PostgreSQL on this machine). */
function backendCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

interface PlanNode {
  [key: string]: unknown;
  Plans?: PlanNode[];
}

interface ExplainRoot {
  Plan: PlanNode;
  'Execution Time': number;
  Triggers?: { 'Trigger Name': string; Time: number; Calls: number }[];
}

/**
 * The statement without CTE `name`'s work: its body becomes a SELECT of the parameters it used (an
 * unreferenced plain CTE is not run), so the statement keeps its parameters.
 */
function dropCte(text: string, name: string): string {
  const at = text.indexOf(`${name} AS (`);
  if (at < 0) return text;
  const open = at + name.length + 4;
  let depth = 0;
  let end = open;
  for (; end < text.length; end++) {
    if (text[end] === '(') depth++;
    else if (text[end] === ')' && --depth === 0) break;
  }
  const refs = [...new Set(text.slice(open, end).match(/\$\d+/g) ?? [])];
  return `${text.slice(0, open + 1)}SELECT ${refs.map((r) => `${r}::text`).join(', ') || '1'}${text.slice(end)}`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
