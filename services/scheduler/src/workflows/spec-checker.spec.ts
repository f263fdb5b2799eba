import { SpecChecker } from './spec-checker';
import { checkSpec } from './spec-source.util';

/** A flat spec of `n` one-line steps; step 5 names a step that does not exist when `broken`. */
const flatSource = (n: number, broken = false): string =>
  'apiVersion: weft/v1\nkind: Workflow\nname: big\nsteps:\n' + Array.from({ length: n }, (_, i) => `  - {id: s${i}, action: noop${broken && i === 5 ? ', needs: [nope]' : ''}}\n`).join('');

/** The longest the event loop went without running a 5 ms interval while `work` ran. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const interval = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work();
    // One more interval after the work: a stall at its very end counts too.
    await new Promise((resolve) => setTimeout(resolve, 10));
    return Math.max(longest, performance.now() - last);
  } finally {
    clearInterval(interval);
  }
}

describe('SpecChecker', () => {
  let checker: SpecChecker;
  afterEach(async () => {
    await checker?.close();
  });

  it('checks a large spec on its worker thread: the event loop keeps turning, and the diagnostics are checkSpec\'s', async () => {
    const failures: string[] = [];
    checker = new SpecChecker({ onWorkerFailed: (error) => failures.push(error) });
    const source = flatSource(10_000, true);
    // The thread starts on first need: a first check boots it.
    await checker.check({ source: flatSource(1_000) });
    let inline: ReturnType<typeof checkSpec> | undefined;
    const onTheLoop = await longestStall(async () => {
      inline = checkSpec({ source });
    });
    let offTheLoop: ReturnType<typeof checkSpec> | undefined;
    const withChecker = await longestStall(async () => {
      offTheLoop = await checker.check({ source });
    });
    expect(offTheLoop).toEqual(inline);
    expect(offTheLoop?.diagnostics.map((d) => [d.code, d.line, d.path])).toEqual([['UNKNOWN_NEED', 10, 'steps[5].needs[0]']]);
    // On the loop the check is one stall as long as itself; on the thread the loop waits only to read the answer.
    expect(withChecker).toBeLessThan(onTheLoop / 2);
    expect(failures).toEqual([]);
  }, 60_000);

  it('gives back a valid spec whole, and takes a spec object as the API receives it', async () => {
    checker = new SpecChecker();
    const source = flatSource(2_000);
    const checked = await checker.check({ source });
    expect(checked).toEqual(checkSpec({ source }));
    expect(checked.spec?.steps).toHaveLength(2_000);
    const fromObject = await checker.check({ spec: checked.spec });
    expect(fromObject).toEqual(checkSpec({ spec: checked.spec }));
  }, 60_000);

  it('applies its limits on the thread (WEFT_MAX_STEPS)', async () => {
    checker = new SpecChecker({ limits: { maxSteps: 1_500 } });
    const { spec, diagnostics } = await checker.check({ source: flatSource(2_000) });
    expect(spec).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(['TOO_MANY_STEPS']);
  }, 60_000);

  it('refuses a large check past maxWaiting with SPEC_CHECKS_BUSY; small ones still run', async () => {
    checker = new SpecChecker({ maxWaiting: 1 });
    const source = flatSource(3_000);
    const first = checker.check({ source });
    await expect(checker.check({ source })).rejects.toMatchObject({ code: 'SPEC_CHECKS_BUSY' });
    expect((await checker.check({ source: flatSource(3) })).spec?.steps).toHaveLength(3);
    expect((await first).spec?.steps).toHaveLength(3_000);
    // The one waiting has been answered: room again.
    expect((await checker.check({ source })).spec?.steps).toHaveLength(3_000);
  }, 60_000);

  it('refuses the checks a dying thread held (never retried on the event loop) and starts another for the next', async () => {
    const failures: string[] = [];
    checker = new SpecChecker({ onWorkerFailed: (error) => failures.push(error) });
    const source = flatSource(3_000);
    expect((await checker.check({ source })).spec?.steps).toHaveLength(3_000);
    const held = checker.check({ source });
    // What a spec that ran the thread out of its heap does: the thread exits under the check.
    await (checker as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(held).rejects.toMatchObject({ code: 'SPEC_CHECKS_BUSY' });
    expect((await checker.check({ source })).spec?.steps).toHaveLength(3_000);
    expect(failures).toEqual([]);
  }, 60_000);

  it('stops its thread once idle and starts another for the next large check', async () => {
    checker = new SpecChecker({ idleMs: 50 });
    const source = flatSource(1_000);
    expect(checker.threadRunning).toBe(false);
    await checker.check({ source });
    expect(checker.threadRunning).toBe(true);
    const deadline = Date.now() + 20_000;
    while (checker.threadRunning && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(checker.threadRunning).toBe(false);
    expect(await checker.check({ source })).toEqual(checkSpec({ source }));
    expect(checker.threadRunning).toBe(true);
  }, 60_000);

  it('checks on the event loop when its thread cannot start, and says so once', async () => {
    const failures: string[] = [];
    checker = new SpecChecker({ onWorkerFailed: (error) => failures.push(error), workerEntry: '/nonexistent/spec-check.worker.js' });
    const source = flatSource(1_000, true);
    const [a, b] = await Promise.all([checker.check({ source }), checker.check({ source })]);
    expect(a).toEqual(checkSpec({ source }));
    expect(b).toEqual(a);
    expect(await checker.check({ source })).toEqual(a);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/Cannot find module/);
  }, 60_000);
});
