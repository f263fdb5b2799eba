/**
 * Where a chain hop's time goes in distributed Weft: runs chains (scheduler + executor in
 * this process, PostgreSQL, NATS) and timestamps, on one clock, every message of the run
 * as a core-NATS subscriber sees it and every updateRun as the store resolves it. Prints
 * the median and p90 of each segment of a hop.
 *
 *   node -r @swc-node/register bench/hop-trace.ts [steps=50] [runs=3] [relaxedLingerMs]
 *
 * After the runs: CPU per hop (the chains' steps) of this process (scheduler), the executor child,
 * the PostgreSQL backends of the bench database and nats-server (shared with anything else on the
 * machine), from /proc over the runs alone; with bench/lib/socket-writes.preload.cjs in
 * NODE_OPTIONS, also this process's socket writes per hop by port.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { adminQuery } from './lib/pg.util';
import { quantile } from './lib/stats.util';
import { NATS_URL, WeftDistributed } from './systems/weft.system';

interface Mark {
  at: number;
  what: string;
  step: string;
}

async function main(): Promise<void> {
  const [stepsArg, runsArg, lingerArg] = process.argv.slice(2);
  const steps = Number(stepsArg ?? 50);
  const runs = Number(runsArg ?? 3);
  const system = new WeftDistributed({ concurrency: 16, ...(lingerArg !== undefined && { relaxedLingerMs: Number(lingerArg) }) });
  await system.setup();
  const marks: Mark[] = [];
  const calls: { call: string; start: number; end: number }[] = [];
  const nc = await connect({ servers: NATS_URL, name: 'bench-hop-trace' });
  try {
    nc.subscribe(`${system.prefix}.>`, {
      callback: (_e, msg) => {
        const at = performance.now();
        const subject = msg.subject.slice(system.prefix.length + 1);
        const data = msg.json<{ stepId?: string; phase?: string; type?: string }>();
        const what = subject.startsWith('weft.step.dispatch.')
          ? 'dispatch published'
          : subject === 'weft.step.heartbeat'
            ? `heartbeat ${data.phase ?? ''} published`
            : subject === 'weft.step.result'
              ? 'result published'
              : `event ${data.type ?? subject}`;
        marks.push({ at, what, step: data.stepId ?? '' });
      },
    });
    await nc.flush();
    system.store().timeline = (call, start, end) => {
      if (call === 'updateRun' || call === 'pendingOutbox' || call === 'markPublished') calls.push({ call, start, end });
    };
    const pgPids = async () => (await adminQuery<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [system.database])).map((row) => row.pid);
    const before = { cpu: cpuSnapshot(await pgPids()), writes: socketWrites() };
    for (let r = 0; r < runs; r++) {
      marks.length = 0;
      calls.length = 0;
      const { finished } = await system.start({ kind: 'chain', steps });
      const outcome = await finished;
      report(marks, steps, outcome.finishedAt - outcome.submittedAt);
      const spans = (name: string) => calls.filter((c) => c.call === name).map((c) => c.end - c.start);
      for (const name of ['updateRun', 'pendingOutbox', 'markPublished']) {
        const d = spans(name);
        console.log(`  ${name}: ${d.length} calls, median ${quantile(d, 0.5).toFixed(2)} ms, p90 ${quantile(d, 0.9).toFixed(2)} ms (call to resolve)`);
      }
    }
    const after = { cpu: cpuSnapshot(await pgPids()), writes: socketWrites() };
    const hops = steps * runs;
    const perHop = (a: number, b: number) => ((b - a) / hops).toFixed(3);
    console.log(`\nCPU per hop over the ${hops} steps (ms): ${Object.keys(after.cpu).map((k) => `${k} ${perHop(before.cpu[k] ?? 0, after.cpu[k])}`).join(', ')}`);
    if (after.writes) {
      const ports = Object.keys(after.writes);
      console.log(`socket writes per hop of this process: ${ports.map((port) => `:${port} ${perHop(before.writes?.[port] ?? 0, after.writes?.[port] ?? 0)}`).join(', ')}`);
    }
  } finally {
    await nc.close();
    await system.teardown();
  }
}

/** CPU (user + system, ms) from /proc: this process, its child processes (the executor), the given PostgreSQL backends, nats-server. */
function cpuSnapshot(pgPids: number[]): Record<string, number> {
  const ticks = (pid: number | string): number => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, 100 Hz clock ticks
    } catch {
      return 0;
    }
  };
  const procs = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  const stat = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return '';
    }
  };
  const children = procs.filter((pid) => stat(pid).split(') ')[1]?.split(' ')[1] === String(process.pid));
  const nats = procs.filter((pid) => stat(pid).includes('(nats-server)'));
  const sum = (pids: (number | string)[]): number => pids.reduce<number>((total, pid) => total + ticks(pid), 0);
  return { scheduler: sum([process.pid]), executor: sum(children), postgres: sum(pgPids), 'nats-server': sum(nats) };
}

/** Writes by remote port so far, when bench/lib/socket-writes.preload.cjs is loaded. */
function socketWrites(): Record<string, number> | undefined {
  const read = (globalThis as { __socketWrites?: () => { writes: Record<string, number> } }).__socketWrites;
  return read?.().writes;
}


function report(marks: Mark[], steps: number, makespan: number): void {
  const first = (step: string, what: string) => marks.find((m) => m.step === step && m.what === what)?.at;
  const rows: [string, number[]][] = [
    ['step i result -> step i+1 dispatch (scheduler: consume result, transaction, publish after commit)', []],
    ['dispatch -> started heartbeat (executor: fetch, publish; only steps longer than startedReportDelayMs)', []],
    ['started heartbeat -> result (executor: run, publish result)', []],
    ['dispatch -> result (executor: fetch, run, publish; a short step sends no started heartbeat)', []],
  ];
  for (let i = 0; i + 1 < steps; i++) {
    const resultI = first(`s${i}`, 'result published');
    const dispatchNext = first(`s${i + 1}`, 'dispatch published');
    const startedNext = first(`s${i + 1}`, 'heartbeat started published');
    const resultNext = first(`s${i + 1}`, 'result published');
    if (resultI !== undefined && dispatchNext !== undefined) rows[0][1].push(dispatchNext - resultI);
    if (dispatchNext !== undefined && startedNext !== undefined) rows[1][1].push(startedNext - dispatchNext);
    if (startedNext !== undefined && resultNext !== undefined) rows[2][1].push(resultNext - startedNext);
    if (dispatchNext !== undefined && resultNext !== undefined) rows[3][1].push(resultNext - dispatchNext);
  }
  console.log(`\n${steps}-step chain: ${makespan.toFixed(0)} ms (${(makespan / steps).toFixed(2)} ms per step)`);
  for (const [label, values] of rows) {
    if (values.length === 0) console.log(`  (none)                          ${label}`);
    else console.log(`  median ${quantile(values, 0.5).toFixed(2).padStart(6)} ms  p90 ${quantile(values, 0.9).toFixed(2).padStart(6)} ms  ${label}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
