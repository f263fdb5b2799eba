import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level and no whitespace, so equal values give
 * equal text whatever their key order (jsonb does not keep it). `undefined` members are
 * dropped, as JSON.stringify drops them.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // undefined (and functions) have no JSON form; inside arrays JSON says null.
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .flatMap((key) => {
      const member = (value as Record<string, unknown>)[key];
      return member === undefined ? [] : [`${JSON.stringify(key)}:${canonicalJson(member)}`];
    });
  return `{${entries.join(',')}}`;
}

/** `sha256:<hex>` of the canonical JSON: the identity of a spec for versioning. */
export function specHash(spec: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(spec)).digest('hex')}`;
}
