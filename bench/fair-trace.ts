/**
 * Where a small run's time goes beside a big one (issue 15, W6's fairness): distributed Weft
 * (scheduler here, executor in its own process, PostgreSQL, NATS). Runs 5-step chains at
 * `rate` runs/s alone, then beside a `steps`-step flat run, and timestamps, on one clock, every
 * dispatch and result message of the small runs as a core-NATS subscriber sees it. Prints the
 * median and p90 of each segment of a small run, quiet and beside; by second of each phase, the
 * small runs' e2e max and their segments' p90; beside, this process's (the scheduler's) event-loop
 * stalls over 50 ms and the big run's committed updates per second. WEFT_PREFETCH, when set, is
 * passed to the executor process's worker. FAIR_WARM_STEPS=N first runs an N-step flat run alone (unmeasured).
 *
 *   node -r @swc-node/register bench/fair-trace.ts [steps=10000] [seconds=8] [rate=10]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import { quantile } from './lib/stats.util';
import { WeftDistributed, NATS_URL } from './systems/weft.system';

interface Mark {
  at: number;
  kind: 'dispatch' | 'result';
  step: string;
}

type Segments = Record<string, number[]>;

async function main(): Promise<void> {
  const [stepsArg, secondsArg, rateArg] = process.argv.slice(2);
  const bigSteps = Number(stepsArg ?? 10_000);
  const seconds = Number(secondsArg ?? 8);
  const rate = Number(rateArg ?? 10);
  const system = new WeftDistributed({ concurrency: 16 });
  await system.setup();
  const marks = new Map<string, Mark[]>();
  const nc = await connect({ servers: NATS_URL, name: 'bench-fair-trace' });
  try {
    nc.subscribe(`${system.prefix}.weft.step.>`, {
      callback: (_e, msg) => {
        const at = performance.now();
        const subject = msg.subject.slice(system.prefix.length + 1);
        const kind = subject.startsWith('weft.step.dispatch.') ? 'dispatch' : subject === 'weft.step.result' ? 'result' : undefined;
        if (kind === undefined) return;
        const data = msg.json<{ runId: string; stepId: string }>();
        let list = marks.get(data.runId);
        if (list === undefined) marks.set(data.runId, (list = []));
        list.push({ at, kind, step: data.stepId });
      },
    });
    await nc.flush();
    // Each updateRun of a run: when the scheduler asked (its handler got the message) and when it resolved (committed).
    const updates = new Map<string, { called: number; resolved: number }[]>();
    const inner = system.store().inner as unknown as { updateRun: (runId: string, ...rest: unknown[]) => Promise<unknown> };
    const updateRun = inner.updateRun.bind(inner);
    inner.updateRun = async (runId: string, ...rest: unknown[]) => {
      const called = performance.now();
      const result = await updateRun(runId, ...rest);
      let list = updates.get(runId);
      if (list === undefined) updates.set(runId, (list = []));
      list.push({ called, resolved: performance.now() });
      return result;
    };
    const smallRuns = async (until: () => boolean): Promise<Segments> => {
      const segments: Segments = { 'submit -> s0 dispatch': [], 'dispatch -> result (executor)': [], 'result -> next dispatch (scheduler)': [], 'last result -> finished': [], 'result -> updateRun called': [], 'updateRun called -> committed': [], 'committed -> next dispatch': [], 'last: result -> updateRun called': [], 'last: updateRun called -> committed': [], e2e: [] };
      const pending: Promise<void>[] = [];
      const started = performance.now();
      // e2e by the second of the phase the run was submitted in: where in the phase the tail is.
      const bySecond: number[][] = [];
      // p90 of a small run's segments by the second of the phase they happened in.
      const perSecond: Record<string, number[][]> = {};
      for (let i = 0; !until(); i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const submitted = performance.now();
        const before = new Set(marks.keys());
        const { finished } = await system.start({ kind: 'chain', steps: 5 });
        pending.push(
          finished.then((outcome) => {
            const runId = [...marks.keys()].find((id) => !before.has(id) && marks.get(id)?.some((m) => m.step === 's4'));
            const list = runId === undefined ? undefined : marks.get(runId);
            segments.e2e.push(outcome.finishedAt - outcome.submittedAt);
            const second = Math.floor((submitted - started) / 1000);
            (bySecond[second] ??= []).push(outcome.finishedAt - outcome.submittedAt);
            if (list === undefined) return;
            const at = (step: string, kind: Mark['kind']) => list.find((m) => m.step === step && m.kind === kind)?.at;
            const d0 = at('s0', 'dispatch');
            if (d0 !== undefined) segments['submit -> s0 dispatch'].push(d0 - submitted);
            for (let s = 0; s < 5; s++) {
              const d = at(`s${s}`, 'dispatch');
              const r = at(`s${s}`, 'result');
              if (d !== undefined && r !== undefined) {
                segments['dispatch -> result (executor)'].push(r - d);
                ((perSecond['executor'] ??= [])[Math.floor((d - started) / 1000)] ??= []).push(r - d);
              }
              const next = at(`s${s + 1}`, 'dispatch');
              if (r !== undefined && next !== undefined) {
                segments['result -> next dispatch (scheduler)'].push(next - r);
                // The first updateRun called after the result was published: the result's.
                const update = updates.get(runId as string)?.find((u) => u.called >= r);
                if (update !== undefined) {
                  segments['result -> updateRun called'].push(update.called - r);
                  segments['updateRun called -> committed'].push(update.resolved - update.called);
                  ((perSecond['result -> updateRun'] ??= [])[Math.floor((r - started) / 1000)] ??= []).push(update.called - r);
                  ((perSecond['updateRun -> committed'] ??= [])[Math.floor((update.called - started) / 1000)] ??= []).push(update.resolved - update.called);
                  segments['committed -> next dispatch'].push(next - update.resolved);
                }
              }
              if (s === 4 && r !== undefined) {
                segments['last result -> finished'].push(outcome.finishedAt - r);
                const update = updates.get(runId as string)?.find((u) => u.called >= r);
                if (update !== undefined) {
                  segments['last: result -> updateRun called'].push(update.called - r);
                  segments['last: updateRun called -> committed'].push(update.resolved - update.called);
                }
              }
            }
          }),
        );
      }
      await Promise.all(pending);
      for (const [name, seconds] of Object.entries(perSecond)) {
        console.log(`  ${name} p90 by second of the phase: ${Array.from(seconds, (values = []) => (values.length === 0 ? '-' : quantile(values, 0.9).toFixed(0))).join(' / ')} ms`);
      }
      console.log(`  e2e max by second of the phase: ${Array.from(bySecond, (values = []) => (values.length === 0 ? '-' : Math.max(...values).toFixed(0))).join(' / ')} ms`);
      return segments;
    };
    const loop = monitorEventLoopDelay({ resolution: 5 });
    const print = (label: string, segments: Segments) => {
      console.log(`\n${label}: this process's event loop delay p50 ${(loop.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`);
      loop.reset();
      for (const [name, values] of Object.entries(segments)) {
        console.log(`  ${name.padEnd(40)} n=${String(values.length).padStart(4)}  p50 ${quantile(values, 0.5).toFixed(1).padStart(7)} ms  p90 ${quantile(values, 0.9).toFixed(1).padStart(7)} ms  p99 ${quantile(values, 0.99).toFixed(1).padStart(7)} ms`);
      }
    };
    // The big run's spec is built (and validated) now: building it when the big run starts held
    // this event loop (the small runs' scheduler's) for ~0.7 s, a cost of the harness, not of Weft.
    system.prepare({ kind: 'flat', steps: bigSteps });
    // FAIR_WARM_STEPS: a flat run of that many steps, alone, before anything is measured (the big-run path compiled).
    const warmSteps = Number(process.env.FAIR_WARM_STEPS ?? 0);
    if (warmSteps > 0) {
      system.prepare({ kind: 'flat', steps: warmSteps });
      const warmed = performance.now();
      await (await system.start({ kind: 'flat', steps: warmSteps })).finished;
      console.log(`warm-up: a ${warmSteps}-step run alone took ${(performance.now() - warmed).toFixed(0)} ms`);
    }
    loop.enable();
    const quietUntil = performance.now() + seconds * 1000;
    print('quiet', await smallRuns(() => performance.now() > quietUntil));
    const bigStarted = performance.now();
    // Stalls of this event loop (a 5 ms timer late by more than 50 ms), by when they ended after the big run's start.
    const stalls: string[] = [];
    let tick = performance.now();
    const stallTimer = setInterval(() => {
      const now = performance.now();
      if (now - tick > 55) stalls.push(`${(now - tick).toFixed(0)} ms at +${(now - bigStarted).toFixed(0)}`);
      tick = now;
    }, 5);
    const big = await system.start({ kind: 'flat', steps: bigSteps });
    console.log(`\nbig run's start request: ${(performance.now() - bigStarted).toFixed(0)} ms (started at ${bigStarted.toFixed(0)} ms of this process)`);
    let done = false;
    const bigOutcome = big.finished.finally(() => (done = true));
    const beside = await smallRuns(() => done);
    const outcome = await bigOutcome;
    clearInterval(stallTimer);
    console.log(`event loop stalls > 50 ms beside the big run (${stalls.length}): ${stalls.slice(0, 30).join(', ')}`);
    const bigUpdates = [...updates.values()].reduce((a, b) => (b.length > a.length ? b : a), []);
    const inDb = bigUpdates.map((u) => u.resolved - u.called);
    const committedBySecond: number[] = [];
    for (const u of bigUpdates) {
      const second = Math.floor((u.resolved - bigStarted) / 1000);
      committedBySecond[second] = (committedBySecond[second] ?? 0) + 1;
    }
    console.log(`big run's updates committed by second: ${Array.from(committedBySecond, (n = 0) => n).join(' / ')}`);
    console.log(`\nbig run: ${bigUpdates.length} updateRun calls, called -> committed p50 ${quantile(inDb, 0.5).toFixed(1)} ms, p90 ${quantile(inDb, 0.9).toFixed(1)} ms`);
    print(`beside a ${bigSteps}-step run (${(bigSteps / ((outcome.finishedAt - bigStarted) / 1000)).toFixed(0)} steps/s)`, beside);
  } finally {
    await nc.close();
    await system.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
