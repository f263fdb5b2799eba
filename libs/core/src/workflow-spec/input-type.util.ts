import type { InputType } from './spec.schema';

/** Whether a JSON value has the declared input type (integers are numbers without a fraction). */
export function matchesInputType(value: unknown, type: InputType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
  }
}

export function typeLabel(type: InputType): string {
  return type === 'integer' || type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`;
}

/** `a string ("5")`, `a number (1.5)`, `an array`, `null`: for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return `${Number.isInteger(value) ? 'an integer' : 'a number'} (${value})`;
  const shown = JSON.stringify(value);
  const short = shown.length > 40 ? `${shown.slice(0, 37)}...` : shown;
  return `a ${typeof value} (${short})`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
