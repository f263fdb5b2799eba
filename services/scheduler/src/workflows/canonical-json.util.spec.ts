import { canonicalJson, specHash } from './canonical-json.util';

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('drops undefined members like JSON does, and writes null for undefined array items', () => {
    expect(canonicalJson({ a: undefined, b: null, c: [undefined] })).toBe('{"b":null,"c":[null]}');
  });

  it('escapes strings and keys as JSON', () => {
    expect(canonicalJson({ 'k"': 'line\nbreak' })).toBe('{"k\\"":"line\\nbreak"}');
    expect(JSON.parse(canonicalJson({ 'k"': 'line\nbreak' }))).toEqual({ 'k"': 'line\nbreak' });
  });
});

describe('specHash', () => {
  it('is the same for the same spec in any key order, and differs when anything changes', () => {
    const one = { name: 'flow', steps: [{ id: 'a', action: 'noop' }] };
    const reordered = { steps: [{ action: 'noop', id: 'a' }], name: 'flow' };
    expect(specHash(one)).toBe(specHash(reordered));
    expect(specHash(one)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(specHash({ ...one, steps: [{ id: 'a', action: 'log' }] })).not.toBe(specHash(one));
    // Step order is meaningful (it breaks ties in the plan): a different order is a different spec.
    expect(specHash({ steps: [1, 2] })).not.toBe(specHash({ steps: [2, 1] }));
  });
});
