import { changedSteps, PlanSteps, StepsDraft, stepIn } from './steps-record.util';
import type { PlannedStep, StepState } from './types';

const plan = (ids: string[]): PlannedStep[] => ids.map((id) => ({ id }) as PlannedStep);
const step = (id: string, status: StepState['status'] = 'pending'): StepState => ({ id, status, attempt: 0, attempts: [], lostLeases: 0, attemptBase: 0 });
/** The record one decision writes on `base`: `steps` put in this order. */
const written = (base: Record<string, StepState>, p: readonly PlannedStep[], ...steps: StepState[]): Record<string, StepState> => {
  const draft = new StepsDraft(base, p);
  for (const s of steps) draft.put(s);
  return draft.steps;
};
const plain = (steps: StepState[]): Record<string, StepState> => {
  const record = Object.create(null) as Record<string, StepState>;
  for (const s of steps) Object.defineProperty(record, s.id, { value: s, writable: true, enumerable: true, configurable: true });
  return record;
};

describe('steps record with structural sharing', () => {
  const ids = Array.from({ length: 200 }, (_, i) => `s${i}`);
  const p = plan([...ids, '__proto__', 'toString']);
  const base = plain([...ids, '__proto__', 'toString'].map((id) => step(id)));

  it('reads like the plain record it replaces, in plan order, own keys only', () => {
    const draft = new StepsDraft(base, p);
    draft.put(step('s150', 'queued'));
    const next = draft.steps;
    expect(next).not.toBe(base);
    expect(next.s150.status).toBe('queued');
    expect(next.s1).toBe(base.s1);
    expect(stepIn(next, '__proto__')?.id).toBe('__proto__');
    expect(stepIn(next, 'toString')?.id).toBe('toString');
    expect(stepIn(next, 'hasOwnProperty')).toBeUndefined();
    expect(Object.hasOwn(next, 's7')).toBe(true);
    expect(Object.hasOwn(next, 'nope')).toBe(false);
    expect('s7' in next).toBe(true);
    expect(Object.keys(next)).toEqual([...ids, '__proto__', 'toString']);
    expect({ ...next }.s150.status).toBe('queued');
    expect(JSON.parse(JSON.stringify(next)).s150.status).toBe('queued');
    expect(next).toEqual(plain(Object.keys(next).map((id) => stepIn(next, id) as StepState)));
  });

  it('never changes the version it was built from, and is read-only', () => {
    const first = new StepsDraft(base, p);
    first.put(step('s3', 'queued'));
    const v1 = first.steps;
    const second = new StepsDraft(v1, p);
    second.put(step('s3', 'running'));
    second.put(step('s4', 'queued'));
    expect(base.s3.status).toBe('pending');
    expect(v1.s3.status).toBe('queued');
    expect(v1.s4.status).toBe('pending');
    expect(second.steps.s3.status).toBe('running');
    expect(() => {
      v1.s3 = step('s3', 'failed');
    }).toThrow(TypeError);
    expect(() => delete v1.s3).toThrow(TypeError);
  });

  it('freezes like a plain record (tests deep-freeze states)', () => {
    const draft = new StepsDraft(base, p);
    draft.put(step('s9', 'queued'));
    const frozen = Object.freeze(draft.steps);
    expect(Object.isFrozen(frozen)).toBe(true);
    expect(frozen.s9.status).toBe('queued');
    expect(Object.keys(frozen)).toHaveLength(202);
    // A frozen version is still a base for the next decision.
    const next = new StepsDraft(frozen, p);
    next.put(step('s9', 'running'));
    expect(next.steps.s9.status).toBe('running');
    expect(frozen.s9.status).toBe('queued');
  });

  it('keeps ids the plan does not have (none in practice) beside the plan slots', () => {
    const draft = new StepsDraft(base, p);
    draft.put(step('extra'));
    expect(Object.keys(draft.steps).at(-1)).toBe('extra');
    expect(stepIn(draft.steps, 'extra')?.id).toBe('extra');
    expect(stepIn(base, 'extra')).toBeUndefined();
  });

  it('PlanSteps reads by plan position what stepIn reads by id, across a draft written in place and plain records', () => {
    const all = [...ids, '__proto__', 'toString'];
    const draft = new StepsDraft(base, p);
    const reader = new PlanSteps(p);
    const seen = (steps: Record<string, StepState>): (StepState | undefined)[] => all.map((_, i) => reader.at(steps, i));
    expect(seen(base)).toEqual(all.map((id) => stepIn(base, id)));
    draft.put(step('s70', 'queued'));
    expect(reader.at(draft.steps, 70)?.status).toBe('queued');
    // The same record, written again after it was read: the reader sees the write.
    draft.put(step('s71', 'running'));
    draft.put(step('s70', 'canceled'));
    expect(reader.at(draft.steps, 71)?.status).toBe('running');
    expect(reader.at(draft.steps, 70)?.status).toBe('canceled');
    expect(seen(draft.steps)).toEqual(all.map((id) => stepIn(draft.steps, id)));
    expect(reader.at(base, 70)?.status).toBe('pending');
    // A record laid out for another plan array (or none): read by id.
    const other = new StepsDraft(base, plan(all));
    other.put(step('s5', 'queued'));
    expect(seen(other.steps)).toEqual(all.map((id) => stepIn(other.steps, id)));
    expect(reader.at(plain([step('s1')]), 1)?.id).toBe('s1');
    expect(reader.at(plain([step('s1')]), 2)).toBeUndefined();
  });

  it('changedSteps lists exactly the steps that are new objects, between versions and against plain records', () => {
    const a = new StepsDraft(base, p);
    a.put(step('s0', 'queued'));
    const v1 = a.steps;
    const b = new StepsDraft(v1, p);
    const s130 = step('s130', 'completed');
    const s199 = step('s199', 'failed');
    b.put(s130);
    b.put(s199);
    expect(changedSteps(v1, b.steps)).toEqual([s130, s199]);
    expect(changedSteps(v1, v1)).toEqual([]);
    expect(changedSteps(base, b.steps).map((s) => s.id)).toEqual(['s0', 's130', 's199']);
    expect(changedSteps(plain(Object.keys(v1).map((id) => stepIn(v1, id) as StepState)), b.steps)).toEqual([s130, s199]);
  });

  it('changedSteps between a version and the one a decision wrote on it: plan order whatever the write order, a chunk written twice listed once per step, an unchanged write not listed', () => {
    const a = new StepsDraft(base, p);
    a.put(step('s0', 'queued'));
    a.put(step('s70', 'queued'));
    const v1 = a.steps;
    const b = new StepsDraft(v1, p);
    const s199 = step('s199', 'failed');
    const s70 = step('s70', 'completed');
    const s71 = step('s71', 'queued');
    b.put(s199);
    b.put(s70);
    b.put(s71);
    b.put(stepIn(v1, 's0') as StepState);
    expect(changedSteps(v1, b.steps)).toEqual([s70, s71, s199]);
    // Two decisions apart: every chunk the two copied.
    const c = new StepsDraft(b.steps, p);
    const s5 = step('s5', 'running');
    c.put(s5);
    expect(changedSteps(v1, c.steps)).toEqual([s5, s70, s71, s199]);
    expect(changedSteps(b.steps, c.steps)).toEqual([s5]);
  });

  it('a plan over several pages (10,000 steps: pages of 4,096): writes, reads, keys and changedSteps across page boundaries', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `m${i}`);
    const bigPlan = plan(many);
    const bigBase = plain(many.map((id) => step(id)));
    // The last step of page 0, the first of page 1, one in the short last page.
    const [m4095, m4096, m9999] = [step('m4095', 'queued'), step('m4096', 'queued'), step('m9999', 'queued')];
    const v1 = written(bigBase, bigPlan, m4096, m9999, m4095);
    expect(stepIn(v1, 'm4095')).toBe(m4095);
    expect(stepIn(v1, 'm4096')).toBe(m4096);
    expect(stepIn(v1, 'm9999')).toBe(m9999);
    expect(stepIn(v1, 'm8191')).toBe(stepIn(bigBase, 'm8191'));
    expect(bigBase.m4096.status).toBe('pending');
    expect(Object.keys(v1)).toEqual(many);
    expect(changedSteps(bigBase, v1)).toEqual([m4095, m4096, m9999]);
    const reader = new PlanSteps(bigPlan);
    expect([4095, 4096, 8192, 9999].map((i) => reader.at(v1, i)?.status)).toEqual(['queued', 'queued', 'pending', 'queued']);
    // A second decision writes a step beside one the first wrote (same chunk) and one in an untouched page.
    const [m4097, m8192] = [step('m4097', 'running'), step('m8192', 'queued')];
    const v2 = written(v1, bigPlan, m8192, m4097);
    expect(changedSteps(v1, v2)).toEqual([m4097, m8192]);
    expect(stepIn(v1, 'm4097')?.status).toBe('pending');
    expect(stepIn(v1, 'm8192')?.status).toBe('pending');
    expect(stepIn(v2, 'm4096')).toBe(m4096);
    // Two decisions apart, and against a plain record: the pages are compared, not one decision's chunks.
    expect(changedSteps(bigBase, v2)).toEqual([m4095, m4096, m4097, m8192, m9999]);
    expect(changedSteps(plain(many.map((id) => stepIn(v1, id) as StepState)), v2)).toEqual([m4097, m8192]);
    expect(Object.keys(JSON.parse(JSON.stringify(v2)) as object)).toHaveLength(10_000);
  });
});
