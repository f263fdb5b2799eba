import type { StepSpec } from '../workflow-spec/spec.schema';
import { boom, dispatchedIds, fatal, RunDriver, workflow } from '../testing';
import { changedSteps } from './steps-record.util';
import { type Command, decide, DEFAULT_DISPATCH_WINDOW, dispatchWindowLoad, explainRun, type RunState, withoutRecalled } from '.';

const flat = (n: number): StepSpec[] => Array.from({ length: n }, (_, i) => ({ id: `s${i}`, action: 'work' }));
const ids = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `s${from + i}`);

describe('the dispatch window', () => {
  it('dispatches at most 64 steps of a run at once, the rest in plan order as earlier ones finish', () => {
    const run = new RunDriver(workflow(flat(200)));
    expect(dispatchedIds(run.start())).toEqual(ids(0, DEFAULT_DISPATCH_WINDOW));
    expect(run.step('s64')).toMatchObject({ status: 'pending', attempt: 0 });
    // Any step finishing makes room for the first held one.
    expect(dispatchedIds(run.run('s10'))).toEqual(['s64']);
    expect(dispatchedIds(run.run('s0'))).toEqual(['s65']);
    for (let i = 0; i < 200; i++) {
      if (run.step(`s${i}`).status !== 'completed') run.run(`s${i}`);
      expect(dispatchWindowLoad(run.state).inFlight).toBeLessThanOrEqual(DEFAULT_DISPATCH_WINDOW);
    }
    expect(run.state.status).toBe('completed');
  });

  it('writes only the steps it dispatches: held steps are not touched until their turn', () => {
    const run = new RunDriver(workflow(flat(10_000)));
    const before = run.state;
    run.start();
    expect(changedSteps(before.steps, run.state.steps)).toHaveLength(DEFAULT_DISPATCH_WINDOW);
    const started = run.state;
    run.run('s3');
    // s3 started and completed, s64 dispatched.
    expect(changedSteps(started.steps, run.state.steps).map((s) => s.id)).toEqual(['s3', 's64']);
  });

  it('is set per workflow with maxStepsInFlight; a step ready later waits behind the held ones', () => {
    // a, b, c are roots; d needs a. With 2 in flight: a, b go; c is held; d, ready once a is done, goes after c.
    const run = new RunDriver(
      workflow(
        [
          { id: 'a', action: 'work' },
          { id: 'b', action: 'work' },
          { id: 'c', action: 'work' },
          { id: 'd', needs: ['a'], action: 'work' },
        ],
        { maxStepsInFlight: 2 },
      ),
    );
    expect(dispatchedIds(run.start())).toEqual(['a', 'b']);
    expect(dispatchedIds(run.run('a'))).toEqual(['c']);
    expect(run.step('d').status).toBe('pending');
    expect(dispatchedIds(run.run('b'))).toEqual(['d']);
    run.run('c');
    run.run('d');
    expect(run.state.status).toBe('completed');
  });

  it('keeps a retrying step in the window until its attempts end', () => {
    const run = new RunDriver(workflow(flat(2), { maxStepsInFlight: 1, defaults: { retry: { maxAttempts: 2, initialInterval: '1s' } } }));
    expect(dispatchedIds(run.start())).toEqual(['s0']);
    run.started('s0');
    expect(dispatchedIds(run.fail('s0', boom))).toEqual([]);
    expect(run.step('s0').status).toBe('retrying');
    expect(dispatchedIds(run.apply({ type: 'timer.fired', at: run.at(2000), timer: 'retry', stepId: 's0', attempt: 1 }))).toEqual(['s0']);
    expect(dispatchedIds(run.run('s0'))).toEqual(['s1']);
  });

  it('does not count waits no executor serves: a sleeping step leaves room', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'nap', action: 'sleep', with: { duration: '1h' } },
          { id: 'work', action: 'work' },
        ],
        { maxStepsInFlight: 1 },
      ),
    );
    expect(dispatchedIds(run.start())).toEqual(['work']);
    expect(run.step('nap').status).toBe('waiting');
  });

  it('counts a forEach step once, its items bounded by its own concurrency', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'each', action: 'work', forEach: '${{ [1, 2, 3] }}', concurrency: 3 },
          { id: 'other', action: 'work' },
          { id: 'third', action: 'work' },
        ],
        { maxStepsInFlight: 2 },
      ),
    );
    expect(dispatchedIds(run.start())).toEqual(['each[0]', 'each[1]', 'each[2]', 'other']);
    expect(run.step('third').status).toBe('pending');
    expect(dispatchWindowLoad(run.state)).toEqual({ inFlight: 2, window: 2, held: 1 });
  });

  it('tells why a ready step waits: the window is full', () => {
    const run = new RunDriver(workflow(flat(3), { maxStepsInFlight: 2 }));
    run.start();
    const why = explainRun(run.state, { now: run.at(1) });
    expect(why.steps.find((s) => s.stepId === 's2')?.reason).toEqual({ kind: 'needs', steps: [], window: { inFlight: 2, limit: 2 } });
    expect(why.steps.find((s) => s.stepId === 's2')?.text).toContain("held by the run's dispatch window (2 of 2 steps in flight)");
    run.run('s0');
    expect(explainRun(run.state, { now: run.at(1) }).steps.map((s) => s.reason.kind)).toEqual(['dispatched', 'dispatched']);
  });

  describe('shared by the shell (DecideOptions.windowShare)', () => {
    /** A share whose window the test sets, recording what the core asks and tells. */
    const share = (window: number) => {
      const asked: string[] = [];
      const ended: string[] = [];
      const s = { window, windowOf: (runId: string) => (asked.push(runId), s.window), ended: (runId: string) => void ended.push(runId) };
      return { s, asked, ended };
    };

    it('takes the window the share gives each decision: a smaller one holds new dispatches until fewer are in flight, a larger one refills', () => {
      const { s } = share(DEFAULT_DISPATCH_WINDOW);
      const run = new RunDriver(workflow(flat(300)));
      run.options = { windowShare: s };
      expect(dispatchedIds(run.start())).toEqual(ids(0, 64));
      s.window = 4;
      for (let i = 0; i < 60; i++) expect(dispatchedIds(run.run(`s${i}`))).toEqual([]);
      expect(dispatchWindowLoad(run.state).inFlight).toBe(4);
      // Under the shared window by one: the first held step goes, in plan order.
      expect(dispatchedIds(run.run('s60'))).toEqual(['s64']);
      s.window = DEFAULT_DISPATCH_WINDOW;
      // The next decision of the run (here s61's start) fills the window again.
      expect(dispatchedIds(run.started('s61'))).toEqual(ids(65, 125));
      expect(dispatchWindowLoad(run.state).inFlight).toBe(64);
    });

    it('never changes a window the workflow sets', () => {
      const { s } = share(2);
      const run = new RunDriver(workflow(flat(20), { maxStepsInFlight: 10 }));
      run.options = { windowShare: s };
      expect(dispatchedIds(run.start())).toEqual(ids(0, 10));
    });

    it('tells the share when a decision ends the run, and asks nothing for a finished run but its retry', () => {
      const { s, asked, ended } = share(DEFAULT_DISPATCH_WINDOW);
      const run = new RunDriver(workflow(flat(2)));
      run.options = { windowShare: s };
      run.start();
      run.run('s0');
      expect(ended).toEqual([]);
      run.started('s1');
      run.fail('s1', fatal);
      expect(run.state.status).toBe('failed');
      expect(ended).toEqual(['r1']);
      const before = asked.length;
      run.apply({ type: 'step.completed', at: run.at(5), stepId: 's1', attempt: 1, token: 'late', output: {} });
      expect(asked).toHaveLength(before);
      // A retry reopens the run: it is asked again (and dispatches s1 again).
      expect(dispatchedIds(run.apply({ type: 'run.retry', at: run.at(10) }))).toEqual(['s1']);
      expect(asked).toHaveLength(before + 1);
    });

    it('tells why a ready step waits for the shared window', () => {
      const run = new RunDriver(workflow(flat(6)));
      run.options = { windowShare: share(2).s };
      run.start();
      const why = explainRun(run.state, { now: run.at(1), defaultWindow: 2 });
      expect(why.steps.find((s) => s.stepId === 's2')?.reason).toEqual({ kind: 'needs', steps: [], window: { inFlight: 2, limit: 2, shared: true } });
      expect(why.steps.find((s) => s.stepId === 's2')?.text).toContain('(2 of 2 steps in flight, shared with other active runs)');
      // Without the fact (an API that cannot tell), the same step reads as ready.
      expect(explainRun(run.state, { now: run.at(1) }).steps.find((s) => s.stepId === 's2')?.reason).toEqual({ kind: 'needs', steps: [] });
    });
  });

  it('cancels a big run with one abort for the run, naming only the steps in flight', () => {
    const run = new RunDriver(workflow(flat(5_000)));
    run.start();
    run.started('s0');
    const commands = run.apply({ type: 'run.cancel', at: run.at(5), reason: 'enough' });
    expect(commands.filter((c) => c.type === 'abort-step')).toEqual([]);
    const aborts = commands.filter((c) => c.type === 'abort-run');
    expect(aborts).toHaveLength(1);
    expect(aborts[0]).toEqual({ type: 'abort-run', reason: 'enough', steps: ids(0, DEFAULT_DISPATCH_WINDOW).map((id) => ({ stepId: id, attempt: 1, token: `r1:${id}:1` })) });
    expect(run.state.status).toBe('canceled');
    expect(Object.values(run.state.steps).every((s) => s.status === 'canceled')).toBe(true);
    expect(dispatchWindowLoad(run.state)).toEqual({ inFlight: 0, window: DEFAULT_DISPATCH_WINDOW, held: 0 });
  });

  it('goes through the window again after run.retry', () => {
    const run = new RunDriver(workflow(flat(3), { maxStepsInFlight: 1, onFailure: 'continue' }));
    run.start();
    run.started('s0');
    run.fail('s0', { ...boom, retryable: false });
    run.run('s1');
    run.run('s2');
    expect(run.state.status).toBe('partially_completed');
    expect(dispatchedIds(run.apply({ type: 'run.retry', at: run.at(10) }))).toEqual(['s0']);
  });

  it('decides the same from a state loaded from the store (nothing of the window is stored)', () => {
    const run = new RunDriver(workflow(flat(300), { maxStepsInFlight: 8 }));
    run.start();
    run.run('s2');
    run.run('s5');
    const loaded = JSON.parse(JSON.stringify(run.state)) as RunState;
    const step = run.step('s7');
    const event = { type: 'step.completed' as const, at: run.at(10), stepId: 's7', attempt: step.attempt, token: step.token ?? '', output: 1 };
    const fromMemory = decide(run.state, event);
    const fromStore = decide(loaded, event);
    expect(JSON.stringify(fromStore)).toEqual(JSON.stringify(fromMemory));
    expect(dispatchedIds(fromStore.commands)).toEqual(['s10']);
  });
});

describe('withoutRecalled', () => {
  const dispatch = (token: string): Command => ({ type: 'dispatch', stepId: token, attempt: 1, token, action: 'work', input: {}, queue: 'default', timeoutMs: 1000 });

  it('drops a dispatch its run abort names, and the abort once it names nothing', () => {
    const abort: Command = { type: 'abort-run', reason: 'x', steps: [{ stepId: 'a', attempt: 1, token: 'a' }, { stepId: 'b', attempt: 1, token: 'b' }] };
    expect(withoutRecalled([dispatch('b'), abort])).toEqual([{ ...abort, steps: [{ stepId: 'a', attempt: 1, token: 'a' }] }]);
    expect(withoutRecalled([dispatch('a'), dispatch('b'), dispatch('c'), abort])).toEqual([dispatch('c')]);
    expect(withoutRecalled([dispatch('c'), abort])).toEqual([dispatch('c'), abort]);
  });
});
