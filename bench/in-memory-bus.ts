/**
 * The in-memory bus alone, as `weft run` with a kept store uses it: three groups on weft.event.>
 * (journal, analytics, the run watcher) and one on the dispatch queue. Prints the process's CPU
 * time for 10,000 lifecycle events and 2,000 dispatches, six rounds (a fresh bus each).
 *
 *   node -r @swc-node/register bench/in-memory-bus.ts
 */
import { InMemoryBus } from '@weft/bus';

const EVENTS = 10_000;
const DISPATCH_EVERY = 5;

async function round(): Promise<number> {
  const bus = new InMemoryBus();
  let seen = 0;
  for (const group of ['journal', 'analytics', 'watch']) await bus.consume('weft.event.>', { group }, async () => void seen++);
  await bus.consume('weft.step.dispatch.>', { group: 'exec' }, async () => void seen++);
  const expected = EVENTS * 3 + EVENTS / DISPATCH_EVERY;
  const cpu = process.cpuUsage();
  for (let i = 0; i < EVENTS; i++) {
    const event = { eventId: `r:${i}:0`, type: 'step.completed', runId: 'r', workflow: 'wf', version: 'v1', status: 'completed', at: '2025-01-01T00:00:00.000Z', stepId: `s${i}`, data: { attempt: 1, output: { ok: true, n: i } } } as const;
    const sent = [bus.publish('weft.event.step.completed', event, { msgId: event.eventId })];
    if (i % DISPATCH_EVERY === 0) {
      const dispatch = { runId: 'r', workflow: 'wf', stepId: `s${i}`, attempt: 1, token: `t${i}`, action: 'noop', input: { n: i }, queue: 'default', timeoutMs: 1000 };
      sent.push(bus.publish('weft.step.dispatch.default', dispatch, { msgId: dispatch.token }));
    }
    await Promise.all(sent);
  }
  while (seen < expected) await new Promise((resolve) => setImmediate(resolve));
  const used = process.cpuUsage(cpu);
  await bus.close();
  return (used.user + used.system) / 1000;
}

async function main(): Promise<void> {
  const rounds: number[] = [];
  for (let i = 0; i < 6; i++) rounds.push(await round());
  console.log(`CPU ms per round: ${rounds.map((ms) => ms.toFixed(0)).join(' ')}; min ${Math.min(...rounds).toFixed(0)}`);
}

void main();
