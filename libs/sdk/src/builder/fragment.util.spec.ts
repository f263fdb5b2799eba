import { FragmentError } from '../sdk.error';
import { chain, fanOutFanIn, parallel, step } from './fragment.util';

const needsOf = (steps: readonly { id: string; needs?: string[] }[]): Record<string, string[]> =>
  Object.fromEntries(steps.map((s) => [s.id, s.needs ?? []]));

describe('step', () => {
  it('builds a step spec in canonical key order without empty fields', () => {
    const s = step('build', 'shell', { with: { cmd: 'make' }, needs: [], retry: { maxAttempts: 2 }, timeout: undefined });
    expect(s).toEqual({ id: 'build', action: 'shell', with: { cmd: 'make' }, retry: { maxAttempts: 2 } });
    expect(Object.keys(step('x', 'noop', { timeout: '1s', needs: ['a'], if: 'true' }))).toEqual(['id', 'needs', 'if', 'action', 'timeout']);
  });
});

describe('chain', () => {
  it('makes each step need the previous one', () => {
    expect(needsOf(chain(step('a', 'noop'), step('b', 'noop'), step('c', 'noop')))).toEqual({ a: [], b: ['a'], c: ['b'] });
  });

  it('keeps needs a step already had and does not mutate its arguments', () => {
    const b = step('b', 'noop', { needs: ['setup'] });
    const out = chain(step('a', 'noop'), b);
    expect(needsOf(out).b).toEqual(['setup', 'a']);
    expect(b.needs).toEqual(['setup']);
  });

  it('makes the element after a parallel group need every step of the group', () => {
    const out = chain(step('a', 'noop'), parallel(step('b', 'noop'), step('c', 'noop'), step('d', 'noop')), step('e', 'noop'));
    expect(needsOf(out)).toEqual({ a: [], b: ['a'], c: ['a'], d: ['a'], e: ['b', 'c', 'd'] });
  });

  it('wires a parallel group of chains by their first and last steps', () => {
    const out = chain(step('start', 'noop'), parallel(chain(step('b1', 'noop'), step('b2', 'noop')), step('c', 'noop')), step('end', 'noop'));
    expect(needsOf(out)).toEqual({ start: [], b1: ['start'], b2: ['b1'], c: ['start'], end: ['b2', 'c'] });
  });

  it('chains two parallel groups all-to-all', () => {
    const out = chain(parallel(step('a', 'noop'), step('b', 'noop')), parallel(step('c', 'noop'), step('d', 'noop')));
    expect(needsOf(out)).toEqual({ a: [], b: [], c: ['a', 'b'], d: ['a', 'b'] });
  });

  it('wires a fan-out inside a chain through its branches and its join', () => {
    const out = chain(step('prepare', 'noop'), fanOutFanIn({ id: 'w', count: 2, action: 'noop', join: { id: 'collect', action: 'noop' } }), step('report', 'log'));
    expect(needsOf(out)).toEqual({ prepare: [], w_0: ['prepare'], w_1: ['prepare'], collect: ['w_0', 'w_1'], report: ['collect'] });
  });
});

describe('parallel', () => {
  it('adds no edges among its elements', () => {
    expect(needsOf(parallel(step('a', 'noop'), step('b', 'noop', { needs: ['x'] }), chain(step('c', 'noop'), step('d', 'noop'))))).toEqual({
      a: [],
      b: ['x'],
      c: [],
      d: ['c'],
    });
  });
});

describe('fanOutFanIn', () => {
  it('makes count branches needing the fan-out point and a join needing all of them', () => {
    const out = fanOutFanIn({ id: 'shard', count: 3, needs: ['split'], action: 'transform', with: { expr: '$index * 10' }, join: { id: 'merge', action: 'noop' } });
    expect(out).toEqual([
      { id: 'shard_0', needs: ['split'], action: 'transform', with: { expr: '0 * 10' } },
      { id: 'shard_1', needs: ['split'], action: 'transform', with: { expr: '1 * 10' } },
      { id: 'shard_2', needs: ['split'], action: 'transform', with: { expr: '2 * 10' } },
      { id: 'merge', needs: ['shard_0', 'shard_1', 'shard_2'], action: 'noop' },
    ]);
  });

  it('substitutes items: whole placeholders keep their type, embedded ones become text', () => {
    const items = [
      { region: 'eu', replicas: 2 },
      { region: 'us', replicas: 3 },
    ];
    const out = fanOutFanIn({
      id: 'deploy',
      items,
      action: 'k8s.deploy',
      with: { region: '$item.region', replicas: '$item.replicas', all: '$item', label: 'deploy-$item.region-#$index', url: '${{ inputs.base }}/$item.region' },
      if: "inputs.regions.exists(r, r == '$item.region')",
      retry: { maxAttempts: 2 },
      join: { id: 'done', action: 'log', with: { message: 'deployed ${{ size($outputs) }}' } },
    });
    expect(out[1]).toEqual({
      id: 'deploy_1',
      if: "inputs.regions.exists(r, r == 'us')",
      action: 'k8s.deploy',
      with: { region: 'us', replicas: 3, all: { region: 'us', replicas: 3 }, label: 'deploy-us-#1', url: '${{ inputs.base }}/us' },
      retry: { maxAttempts: 2 },
    });
    expect(out[2].with).toEqual({ message: 'deployed ${{ size([steps.deploy_0.output, steps.deploy_1.output]) }}' });
  });

  it('accepts functions for branch and join inputs', () => {
    const out = fanOutFanIn({
      id: 'sq',
      items: ['a', 'b'],
      action: 'noop',
      with: ({ index, item }) => ({ key: `${item}${index}` }),
      join: { id: 'sum', action: 'transform', with: ({ ids }) => ({ expr: ids.map((id) => `steps.${id}.output.key`).join(' + ') }) },
    });
    expect(out.map((s) => s.with)).toEqual([{ key: 'a0' }, { key: 'b1' }, { expr: 'steps.sq_0.output.key + steps.sq_1.output.key' }]);
  });

  it('reads $item fields only while the value is an object, leaving the rest as text', () => {
    const join = { id: 'j', action: 'noop' };
    const [byName] = fanOutFanIn({ id: 'r', items: ['eu'], action: 'noop', with: { url: 'https://$item.example.com' }, join });
    expect(byName.with).toEqual({ url: 'https://eu.example.com' });
    const [byField] = fanOutFanIn({ id: 'r', items: [{ host: { name: 'us', port: 443 } }], action: 'noop', with: { url: 'https://$item.host.name.example.com:$item.host.port' }, join });
    expect(byField.with).toEqual({ url: 'https://us.example.com:443' });
  });

  it('leaves look-alike names and ${{ }} alone', () => {
    const [first] = fanOutFanIn({ id: 'x', count: 1, action: 'noop', with: { a: '$indexes', b: '${{ steps.index }}', c: 'cost: $5' }, join: { id: 'j', action: 'noop' } });
    expect(first.with).toEqual({ a: '$indexes', b: '${{ steps.index }}', c: 'cost: $5' });
  });

  it('rejects a bad count, empty items and a missing item field', () => {
    const join = { id: 'j', action: 'noop' };
    expect(() => fanOutFanIn({ id: 'x', count: 0, action: 'noop', join })).toThrow(FragmentError);
    expect(() => fanOutFanIn({ id: 'x', count: 1.5, action: 'noop', join })).toThrow(/positive integer/);
    expect(() => fanOutFanIn({ id: 'x', items: [], action: 'noop', join })).toThrow(/items is empty/);
    expect(() => fanOutFanIn({ id: 'x', items: [{ a: 1 }], action: 'noop', with: { v: '$item.b' }, join })).toThrow(/\$item\.b has no field "b"/);
  });
});
