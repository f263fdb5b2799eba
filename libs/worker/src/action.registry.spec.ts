import { ActionNotFoundError, ActionRegistrationError } from './action.errors';
import { ActionRegistry } from './action.registry';
import type { ActionDefinition } from './action.types';

const action = (name: string): ActionDefinition => ({ name, handler: () => name });

describe('ActionRegistry', () => {
  it('registers, finds and lists actions sorted by name', () => {
    const registry = new ActionRegistry([action('zeta'), action('email.send')]).register(action('alpha'));
    expect(registry.get('email.send')?.name).toBe('email.send');
    expect(registry.has('zeta')).toBe(true);
    expect(registry.get('missing')).toBeUndefined();
    expect(registry.list().map((a) => a.name)).toEqual(['alpha', 'email.send', 'zeta']);
    expect(registry.size).toBe(3);
  });

  it('resolve throws a non-retryable ACTION_NOT_FOUND for an unknown name', () => {
    const registry = new ActionRegistry();
    expect(() => registry.resolve('nope')).toThrow(ActionNotFoundError);
    expect(() => registry.resolve('nope')).toThrow(expect.objectContaining({ code: 'ACTION_NOT_FOUND', retryable: false, action: 'nope' }));
  });

  it('refuses a second action under the same name, also through merge', () => {
    const registry = new ActionRegistry([action('a')]);
    expect(() => registry.register(action('a'))).toThrow(expect.objectContaining({ code: 'ACTION_DUPLICATE' }));
    expect(() => registry.merge([action('b'), action('a')])).toThrow(ActionRegistrationError);
  });

  it('merges another registry', () => {
    const merged = new ActionRegistry([action('a')]).merge(new ActionRegistry([action('b')]));
    expect(merged.list().map((a) => a.name)).toEqual(['a', 'b']);
  });

  it.each(['', 'has space', 'trailing.', '.leading', 'a..b', '1st', 'a/b'])('rejects the malformed name %p', (name) => {
    expect(() => new ActionRegistry().register(action(name))).toThrow(expect.objectContaining({ code: 'ACTION_INVALID_NAME' }));
  });

  it.each(['noop', 'http.request', 'email.send', 'validate-records', 'a_b.c-d.e1'])('accepts %p', (name) => {
    expect(new ActionRegistry().register(action(name)).has(name)).toBe(true);
  });
});
