/**
 * Where a chain hop's wall time goes, from the sockets of every process (scheduler in this
 * process, the executor child) on one clock: bench/lib/socket-timeline.preload.cjs records each
 * socket read and write. No subscriber or hook inside Weft, so nothing here adds work to the
 * scheduler's event loop. Per hop of a lone chain, the segments between:
 *
 *   executor writes result i -> scheduler reads it -> scheduler writes its PostgreSQL statement ->
 *   reads the answer -> writes dispatch i+1 -> executor reads it -> executor writes result i+1
 *
 *   mkdir -p /tmp/tl && NODE_OPTIONS="-r $PWD/bench/lib/socket-timeline.preload.cjs" SOCKET_TIMELINE_DIR=/tmp/tl \
 *     node -r @swc-node/register bench/hop-wire.ts [steps=100] [runs=3] [--dump]
 *
 * --dump prints every socket event of one hop in the middle of the last run; --profile=<file> writes a
 * .cpuprofile of this process (the scheduler) over the runs alone (bench/profile-summary.ts reads it);
 * --diamond (W3's 10x10) and --fan (W2's 1 -> 1000 -> 1) print each run's socket writes and reads by process.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { quantile } from './lib/stats.util';
import { WeftDistributed } from './systems/weft.system';

type Event = [at: number, dir: 'r' | 'w', port: string, bytes: number, what: string, took?: number];
interface Tagged {
  at: number;
  who: 'S' | 'X';
  dir: 'r' | 'w';
  port: string;
  bytes: number;
  what: string;
  took: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const dump = process.argv.includes('--dump');
  const profileOut = process.argv.find((a) => a.startsWith('--profile='))?.slice('--profile='.length);
  const steps = Number(args[0] ?? 100);
  const runs = Number(args[1] ?? 3);
  // --diamond: W3's 10x10 diamond, --fan: W2's 1 -> 1000 -> 1, instead of a chain; socket writes and reads per run only.
  const shape = process.argv.includes('--fan')
    ? ({ kind: 'fan', width: 1000 } as const)
    : process.argv.includes('--diamond')
      ? ({ kind: 'diamond', layers: 10, width: 10 } as const)
      : ({ kind: 'chain', steps } as const);
  const dir = process.env.SOCKET_TIMELINE_DIR;
  const live = (globalThis as { __socketTimeline?: Event[] }).__socketTimeline;
  if (!dir || !live) throw new Error('load bench/lib/socket-timeline.preload.cjs with NODE_OPTIONS and set SOCKET_TIMELINE_DIR');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) rmSync(path.join(dir, f));
  const system = new WeftDistributed({ concurrency: 16 });
  await system.setup();
  const windows: [number, number][] = [];
  try {
    // One warm-up run, not reported.
    await (await system.start({ kind: 'chain', steps: 10 })).finished;
    const session = profileOut ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const cpuFrom = cpuSnapshot();
    for (let r = 0; r < runs; r++) {
      const from = performance.timeOrigin + performance.now();
      const outcome = await (await system.start(shape)).finished;
      windows.push([from, performance.timeOrigin + performance.now()]);
      console.log(`${shape.kind === 'chain' ? `${steps}-step chain` : shape.kind}: ${(outcome.finishedAt - outcome.submittedAt).toFixed(0)} ms`);
    }
    const cpuTo = cpuSnapshot();
    const stepsPerRun = shape.kind === 'chain' ? steps : shape.kind === 'diamond' ? 100 : 1002;
    console.log(`CPU per step (ms, /proc): ${Object.keys(cpuTo).map((k) => `${k} ${((cpuTo[k] - (cpuFrom[k] ?? 0)) / (stepsPerRun * runs)).toFixed(3)}`).join(', ')}`);
    if (session && profileOut) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(profileOut, JSON.stringify(profile));
      session.disconnect();
    }
  } finally {
    await system.teardown();
  }
  // The executor child writes its file on exit: wait for it.
  const deadline = Date.now() + 10_000;
  while (readdirSync(dir).filter((f) => f !== `${process.pid}.json`).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const mine: Tagged[] = live.map(([at, d, port, bytes, what, took]) => ({ at, who: 'S', dir: d, port, bytes, what, took: took ?? 0 }));
  const theirs: Tagged[] = readdirSync(dir)
    .filter((f) => f !== `${process.pid}.json`)
    .flatMap((f) => (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { events: Event[] }).events.map(([at, d, port, bytes, what, took]) => ({ at, who: 'X' as const, dir: d, port, bytes, what, took: took ?? 0 })));
  const all = [...mine, ...theirs].sort((a, b) => a.at - b.at);
  if (shape.kind !== 'chain') {
    for (const [from, to] of windows) {
      const evs = all.filter((e) => e.at >= from && e.at <= to);
      const count = (who: string, d: string, port: string) => evs.filter((e) => e.who === who && e.dir === d && e.port === port).length;
      console.log(`  scheduler writes PG ${count('S', 'w', '5432')}, NATS ${count('S', 'w', '4222')}; reads NATS ${count('S', 'r', '4222')}; executor writes NATS ${count('X', 'w', '4222')}, reads ${count('X', 'r', '4222')}`);
    }
    return;
  }
  const segments: Record<string, number[]> = {};
  const add = (name: string, ms: number) => (segments[name] ??= []).push(ms);
  let dumped = false;
  windows.forEach(([from, to], w) => {
    const evs = all.filter((e) => e.at >= from && e.at <= to);
    const is = (e: Tagged, who: 'S' | 'X', d: 'r' | 'w', port: string, what?: string) => e.who === who && e.dir === d && e.port === port && (what === undefined || e.what.includes(what));
    const next = (i: number, test: (e: Tagged) => boolean) => {
      for (let j = i; j < evs.length; j++) if (test(evs[j])) return j;
      return -1;
    };
    let i = next(0, (e) => is(e, 'X', 'w', '4222', 'weft.step.result'));
    let hop = 0;
    while (i >= 0) {
      const sRead = next(i, (e) => is(e, 'S', 'r', '4222', 'weft.step.result'));
      const pgWrite = sRead < 0 ? -1 : next(sRead, (e) => is(e, 'S', 'w', '5432'));
      const pgRead = pgWrite < 0 ? -1 : next(pgWrite, (e) => is(e, 'S', 'r', '5432'));
      const sPub = pgRead < 0 ? -1 : next(pgRead, (e) => is(e, 'S', 'w', '4222', 'weft.step.dispatch'));
      const xRead = sPub < 0 ? -1 : next(sPub, (e) => is(e, 'X', 'r', '4222', 'weft.step.dispatch'));
      const xPub = xRead < 0 ? -1 : next(xRead, (e) => is(e, 'X', 'w', '4222', 'weft.step.result'));
      if (xPub < 0) break;
      const t = (k: number) => evs[k].at;
      add('1 executor result write -> scheduler reads it (NATS, JetStream store, pull delivery)', t(sRead) - t(i));
      add('2 scheduler: result read -> PostgreSQL statement written (decode, decide, build)', t(pgWrite) - t(sRead));
      add('3 PostgreSQL: statement written -> first answer read (execute, commit, fsync)', t(pgRead) - t(pgWrite));
      add('4 scheduler: answer read -> dispatch written (parse, resolve, publish)', t(sPub) - t(pgRead));
      add('5 scheduler dispatch write -> executor reads it (NATS, JetStream store, pull delivery)', t(xRead) - t(sPub));
      add('6 executor: dispatch read -> result written (decode, run, publish)', t(xPub) - t(xRead));
      add('= hop (result write -> next result write)', t(xPub) - t(i));
      const pgReads = evs.slice(pgWrite, sPub).filter((e) => is(e, 'S', 'r', '5432')).length;
      add('  PostgreSQL reads between statement and dispatch', pgReads);
      add('  write call: scheduler PostgreSQL statement', evs[pgWrite].took);
      add('  write call: scheduler dispatch', evs[sPub].took);
      add('  write call: executor result', evs[xPub].took);
      if (dump && !dumped && w === windows.length - 1 && hop === Math.floor(steps / 2)) {
        dumped = true;
        const base = t(i);
        console.log('\none hop, every socket event (ms from the executor writing result i):');
        for (const e of evs.slice(i, xPub + 1)) console.log(`  ${(e.at - base).toFixed(3).padStart(8)}  ${e.who} ${e.dir} :${e.port} ${String(e.bytes).padStart(5)}B${e.dir === 'w' ? ` (${e.took.toFixed(3)} ms)` : ''} ${e.what}`);
      }
      i = xPub;
      hop++;
    }
  });
  console.log(`\nper hop, ${runs} runs of ${steps} steps (median / p90, ms):`);
  for (const [name, values] of Object.entries(segments).sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${quantile(values, 0.5).toFixed(3).padStart(7)} / ${quantile(values, 0.9).toFixed(3).padStart(7)}  ${name} (${values.length})`);
  }
}

/** CPU (user + system, ms) from /proc: this process (the scheduler), its children (the executor), nats-server. */
function cpuSnapshot(): Record<string, number> {
  const stat = (pid: string): string => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return '';
    }
  };
  const ticks = (pid: string): number => {
    const fields = stat(pid).split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10; // utime + stime, 100 Hz clock ticks
  };
  const procs = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  const sum = (pids: string[]) => pids.reduce((total, pid) => total + ticks(pid), 0);
  return {
    scheduler: ticks(String(process.pid)),
    executor: sum(procs.filter((pid) => stat(pid).split(') ')[1]?.split(' ')[1] === String(process.pid))),
    'nats-server': sum(procs.filter((pid) => stat(pid).includes('(nats-server)'))),
    postgres: sum(procs.filter((pid) => stat(pid).includes('(postgres)'))),
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
