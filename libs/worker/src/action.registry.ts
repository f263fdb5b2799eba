import { ActionNotFoundError, ActionRegistrationError, WORKER_ERROR_CODES } from './action.errors';
import type { ActionDefinition } from './action.types';

/** Dot-separated segments of letters, digits, `_` and `-`: `http.request`, `email.send`, `validate-records`. */
export const ACTION_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;

/** The actions one worker can run, by name. A name is registered once: shadowing is a mistake, not a feature. */
export class ActionRegistry {
  private readonly byName = new Map<string, ActionDefinition>();

  constructor(definitions: Iterable<ActionDefinition> = []) {
    for (const definition of definitions) this.register(definition);
  }

  register(definition: ActionDefinition): this {
    if (!ACTION_NAME_PATTERN.test(definition.name)) {
      throw new ActionRegistrationError(
        WORKER_ERROR_CODES.invalidActionName,
        `invalid action name "${definition.name}": use letters, digits, _ and -, in dot-separated segments`,
      );
    }
    if (this.byName.has(definition.name)) {
      throw new ActionRegistrationError(WORKER_ERROR_CODES.duplicateAction, `action "${definition.name}" is already registered`);
    }
    this.byName.set(definition.name, definition);
    return this;
  }

  /** Adds every action of `other`; fails on the first name both hold. */
  merge(other: ActionRegistry | Iterable<ActionDefinition>): this {
    for (const definition of other instanceof ActionRegistry ? other.list() : other) this.register(definition);
    return this;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): ActionDefinition | undefined {
    return this.byName.get(name);
  }

  /** Like `get`, but throws ActionNotFoundError (non-retryable). */
  resolve(name: string): ActionDefinition {
    const definition = this.byName.get(name);
    if (!definition) throw new ActionNotFoundError(name);
    return definition;
  }

  /** Sorted by name, for the action catalog. */
  list(): ActionDefinition[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get size(): number {
    return this.byName.size;
  }
}
