import { join } from 'node:path';
import type { StepSpec, WorkflowSpec } from '@weft/core';
import { loadWorkflow } from '../load-workflow';
import { childWorkflowsOf, keepsInMemory, whyDurable } from './keeps-in-memory.util';

const examples = join(__dirname, '..', '..', '..', '..', 'examples');
const example = async (name: string): Promise<WorkflowSpec> => {
  const { spec } = await loadWorkflow(join(examples, `${name}.yaml`));
  if (!spec) throw new Error(`examples/${name}.yaml does not load`);
  return spec;
};
const flow = (steps: StepSpec[], more: Partial<WorkflowSpec> = {}): WorkflowSpec => ({ apiVersion: 'weft/v1', kind: 'Workflow', name: 'flow', steps, ...more });
const none = new Map<string, WorkflowSpec>();

describe('keepsInMemory: weft run on PGlite keeps in memory only runs that wait for nothing and end in seconds', () => {
  it.each(['diamond', 'fan-out', 'flaky-retry', 'conditional', 'github-push', 'nightly-report'])('examples/%s.yaml: in memory', async (name) => {
    const spec = await example(name);
    expect(whyDurable(spec, none)).toBeUndefined();
    expect(keepsInMemory(spec, none)).toBe(true);
  });

  it.each([
    ['durable-sleep', ': sleep'],
    ['wait-for-event', ': wait.event'],
    ['approval', ': review'],
    ['per-customer-limit', 'rate limit per 60000 ms'],
    // http.request: 3 attempts of up to 10 s each, capped by the run's 1m.
    ['data-pipeline', 'its steps may last 60000 ms'],
    ['map-over-files', 'forEach over a step that may last'],
  ])('examples/%s.yaml: written as it goes (%s)', async (name, reason) => {
    const spec = await example(name);
    expect(whyDurable(spec, none)).toContain(reason);
    expect(keepsInMemory(spec, none)).toBe(false);
  });

  it('a child workflow is checked as its parent is: found and quick, in memory; missing, named by an expression, durable or recursive: written as it goes', async () => {
    const parent = await example('parent-child');
    const children = await childWorkflowsOf(parent, async (name) => ({ spec: await example(name) }));
    expect([...children.keys()]).toEqual(['large-orders']);
    expect(whyDurable(parent, children)).toBeUndefined();
    expect(whyDurable(parent, none)).toContain('child workflow large-orders not found');

    const calls = (workflow: string): WorkflowSpec => flow([{ id: 'call', action: 'workflow', with: { workflow } }]);
    expect(whyDurable(calls('${{ inputs.which }}'), none)).toContain('named by an expression');
    expect(whyDurable(calls('nap'), new Map([['nap', flow([{ id: 'z', action: 'sleep', with: { duration: '1s' } }], { name: 'nap' })]]))).toBe('flow step call: nap step z: sleep');
    expect(whyDurable(calls('flow'), none)).toContain('runs itself again');
  });

  it('instant built-ins: their timeouts bound nothing; other actions: attempts x timeout plus backoffs, in all, against a few seconds', () => {
    expect(whyDurable(flow([{ id: 'a', action: 'transform', timeout: '1h', with: { expr: '1' } }]), none)).toBeUndefined();
    // http.request with the default 10m step timeout may last that long.
    expect(whyDurable(flow([{ id: 'get', action: 'http.request', with: { url: 'http://x' } }]), none)).toBe('its steps may last 600000 ms (over 5000 ms)');
    expect(whyDurable(flow([{ id: 'get', action: 'http.request', timeout: '2s', with: { url: 'http://x' } }]), none)).toBeUndefined();
    // Along a chain of needs they add up: two such steps, 4 s; a third goes over. Side by side, they do not.
    const get = (id: string, needs: string[] = []): StepSpec => ({ id, needs, action: 'http.request', timeout: '2s', with: { url: 'http://x' } });
    expect(whyDurable(flow([get('a'), get('b', ['a'])]), none)).toBeUndefined();
    expect(whyDurable(flow([get('a'), get('b', ['a']), get('c', ['b'])]), none)).toBe('its steps may last 6000 ms (over 5000 ms)');
    expect(whyDurable(flow([get('a'), get('b'), get('c'), get('d', ['a'])]), none)).toBeUndefined();
    // ... unless the run's own timeout ends it sooner.
    expect(whyDurable(flow([get('a'), get('b', ['a']), get('c', ['b'])], { timeout: '5s' }), none)).toBeUndefined();
    expect(whyDurable(flow([get('a'), get('b', ['a']), get('c', ['b'])], { timeout: '6s' }), none)).toBe('its steps may last 6000 ms (over 5000 ms)');
    // A run timeout is no wait: a run of instant steps ends long before it.
    expect(whyDurable(flow([{ id: 'a', action: 'log', with: { message: 'hi' } }], { timeout: '1h' }), none)).toBeUndefined();
    // Retry backoff of an instant step: 1s, 2s, 4s (default exponential, jitter up to +20%) is over; 1s, 2s is under.
    expect(whyDurable(flow([{ id: 'f', action: 'fail', retry: { maxAttempts: 4 } }]), none)).toBe('its steps may last 8400 ms (over 5000 ms)');
    expect(whyDurable(flow([{ id: 'f', action: 'fail', retry: { maxAttempts: 3 } }]), none)).toBeUndefined();
    expect(whyDurable(flow([{ id: 'f', action: 'fail', retry: { maxAttempts: 3, jitter: false, backoff: 'fixed', initialInterval: '2500ms' } }]), none)).toBeUndefined();
    expect(whyDurable(flow([{ id: 'f', action: 'fail', retry: { maxAttempts: 4, jitter: false, backoff: 'fixed', initialInterval: '2500ms' } }]), none)).toBe('its steps may last 7500 ms (over 5000 ms)');
  });

  it('a review, a sleep or a wait.event anywhere, even with a short duration, and a forEach over a step that may last: written as it goes', () => {
    expect(whyDurable(flow([{ id: 'gate', action: 'noop', review: {} }]), none)).toBe('flow step gate: review');
    expect(whyDurable(flow([{ id: 'z', action: 'sleep', with: { duration: '10ms' } }]), none)).toBe('flow step z: sleep');
    expect(whyDurable(flow([{ id: 'w', action: 'wait.event', with: { event: 'e', timeout: '1s' } }]), none)).toBe('flow step w: wait.event');
    expect(whyDurable(flow([{ id: 'each', action: 'http.request', forEach: '[1, 2]', timeout: '1s', with: { url: 'http://x' } }]), none)).toBe('flow step each: forEach over a step that may last 1000 ms per item');
    expect(whyDurable(flow([{ id: 'each', action: 'transform', forEach: '[1, 2]', with: { expr: 'item' } }]), none)).toBeUndefined();
  });
});
