import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `weft_<id>_<secret>`: the id (12 hex) finds the row, the sha256 of
 * the whole key is all the database keeps. The key itself is shown once, at creation.
 */
const KEY = /^weft_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export const NAMESPACE_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export function generateApiKey(): { id: string; key: string; hash: string } {
  const id = randomBytes(6).toString('hex');
  const key = `weft_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: hashApiKey(key) };
}

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** The key id, or undefined when the text is not shaped like a key. */
export function apiKeyId(key: string): string | undefined {
  return KEY.exec(key)?.[1];
}

/** Constant-time comparison of a presented key with a stored hash. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
