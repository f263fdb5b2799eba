import type { RunState } from '@weft/core';
import type { Sql } from './run-sql.util';
import { writeTransition } from './transition.writer';

/** A run whose spec and plan are as large as a 2,000-step workflow's. */
function bigRun(seq: number): RunState {
  const steps = Array.from({ length: 2000 }, (_, i) => ({ id: `s${i}`, action: 'noop' }));
  return { runId: 'r1', namespace: 'default', workflow: 'big', version: '1', status: 'running', inputs: {}, seq, createdAt: 0, spec: { steps }, plan: steps, steps: {} } as unknown as RunState;
}

/** Records the statement's parameters and answers as PostgreSQL would for one updated run. */
function capturing(): { tx: Sql; params: () => unknown[] } {
  let seen: unknown[] = [];
  const tx = { query: (_sql: string, params: unknown[]) => ((seen = params), Promise.resolve([{ runs: 1 }])) } as unknown as Sql;
  return { tx, params: () => seen };
}

const runParam = (params: unknown[]) => JSON.parse(params[0] as string) as Record<string, unknown>;

describe('writeTransition', () => {
  it('sends neither spec nor plan for an event that leaves them as loaded: the statement does not grow with the run', async () => {
    const loaded = bigRun(4);
    const state = { ...loaded, seq: 5, status: 'completed' } as RunState;
    const { tx, params } = capturing();
    await writeTransition(tx, 'r1', { state, outbox: [], schedule: [], cancel: [] }, [], loaded, { claimMs: 1000 });
    const run = runParam(params());
    expect(run).toMatchObject({ status: 'completed', seq: 5 });
    expect(run).not.toHaveProperty('spec');
    expect(run).not.toHaveProperty('plan');
    expect((params()[0] as string).length).toBeLessThan(1000);
  });

  it('sends (and rewrites) a spec or plan that changed', async () => {
    const loaded = bigRun(4);
    const plan = [{ id: 'only' }];
    const state = { ...loaded, seq: 5, plan } as unknown as RunState;
    const { tx, params } = capturing();
    await writeTransition(tx, 'r1', { state, outbox: [], schedule: [], cancel: [] }, [], loaded, { claimMs: 1000 });
    const run = runParam(params());
    expect(run.plan).toEqual(plan);
    expect(run).not.toHaveProperty('spec');
  });
});

describe('writeTransition step rows', () => {
  it('sends steps that changed the same way as one row with their ids (a cancel of thousands of pending steps)', async () => {
    const loaded = bigRun(4);
    const canceled = (id: string) => ({ id, status: 'canceled', attempt: 0, attempts: [], reason: 'stop', finishedAt: 1_000 });
    const steps = [canceled('a'), canceled('b'), { id: 'c', status: 'running', attempt: 1, attempts: [], token: 'r1:c:1' }, canceled('d')];
    const { tx, params } = capturing();
    await writeTransition(tx, 'r1', { state: { ...loaded, seq: 5 }, outbox: [], schedule: [], cancel: [] }, steps as never, loaded, { claimMs: 1000 });
    const groups = params()
      .filter((p): p is string => typeof p === 'string' && p.startsWith('[{"row"'))
      .flatMap((p) => JSON.parse(p) as { row: Record<string, unknown>; ids: string[] }[]);
    expect(groups.map((group) => group.ids)).toEqual([['a', 'b', 'd'], ['c']]);
    expect(groups[0].row).toMatchObject({ status: 'canceled', finished_at: new Date(1_000).toISOString(), extra: { reason: 'stop' } });
    expect(groups[1].row).toMatchObject({ status: 'running', token: 'r1:c:1' });
  });
});
