import { join } from 'node:path';
import { runCommand } from '../commands/run.command';
import type { Io } from '../io';

// `weft run` on the wait examples: durable sleep, a wait that times out, and a review decided
// from --decide (or, with no terminal and no --decide, a run that says how to decide and ends).
const examples = join(__dirname, '..', '..', '..', '..', 'examples');

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false, write: (t) => lines.push(t) };
}

const base = { input: [] as string[], actions: [] as string[], json: true };
type StepJson = { id: string; status: string; error?: { code: string }; review?: unknown; wait?: unknown };
const report = (io: { lines: string[] }): { status: string; outputs?: Record<string, unknown>; steps: StepJson[] } =>
  JSON.parse(io.lines.join('\n')) as never;

describe('weft run with waits and reviews (embedded)', () => {
  it('durable-sleep: the sleep is a timer; the run completes after it', async () => {
    const io = capture();
    expect(await runCommand(join(examples, 'durable-sleep.yaml'), { ...base, input: ['delay=300ms'] }, io)).toBe(0);
    const sleptMs = report(io).outputs?.['sleptMs'];
    expect(sleptMs).toEqual(expect.any(Number));
    expect(sleptMs as number).toBeGreaterThanOrEqual(300);
  }, 20_000);

  it('wait-for-event: without a signal the wait fails with TIMEOUT', async () => {
    const io = capture();
    expect(await runCommand(join(examples, 'wait-for-event.yaml'), { ...base, input: ['timeout=300ms'] }, io)).toBe(1);
    expect(report(io).steps).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'paid', status: 'failed', error: expect.objectContaining({ code: 'TIMEOUT' }) })]));
  }, 20_000);

  it('approval: --decide approve=correct:<json> replaces the output; a correction failing the form is refused and ends the run', async () => {
    const io = capture();
    expect(await runCommand(join(examples, 'approval.yaml'), { ...base, decide: ['approve=correct:{"amount": 90, "customer": "ada"}'] }, io)).toBe(0);
    expect(report(io).outputs).toEqual({ refunded: 90 });
    // --json names the decision and who made it (weft run decides as local).
    expect(report(io).steps.find((step) => step.id === 'approve')?.review).toEqual({ reviewId: expect.any(String), decision: 'correct', actor: 'local', at: expect.any(String), comment: null });

    const bad = capture();
    expect(await runCommand(join(examples, 'approval.yaml'), { ...base, decide: ['approve=correct:{"amount": -1}'] }, bad)).toBe(1);
    expect(bad.errors.join('\n')).toMatch(/payload\.amount: must be >= 0/);
  }, 20_000);

  it('approval: the plain view shows the review and the decision with its actor; reject fails the step with REJECTED', async () => {
    const io = capture();
    expect(await runCommand(join(examples, 'approval.yaml'), { ...base, json: false, decide: ['approve=reject'] }, io)).toBe(1);
    const text = io.lines.join('\n').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    expect(text).toMatch(/approve waiting for review \S+: Refund 120 to ada\?/);
    expect(text).toContain('approve review decided: reject by local');
    expect(text).toMatch(/approve failed: REJECTED rejected by local/);
  }, 20_000);

  it('approval without --decide and without a terminal says how to decide and ends the run', async () => {
    const io = capture();
    expect(await runCommand(join(examples, 'approval.yaml'), base, io)).toBe(1);
    expect(io.errors.join('\n')).toMatch(/step approve waits for a review .*--decide approve=.*weft reviews decide/);
    expect(report(io).status).toBe('canceled');
  }, 20_000);

  it('an invalid --decide flag is a usage error (exit 2) before anything runs', async () => {
    const io = capture();
    expect(await runCommand(join(examples, 'approval.yaml'), { ...base, decide: ['approve=maybe'] }, io)).toBe(2);
    expect(io.errors.join('\n')).toMatch(/decision is one of/);
  });
});
