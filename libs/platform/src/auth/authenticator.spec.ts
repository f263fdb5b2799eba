import type { ApiKeyRecord } from './api-key.repository';
import { apiKeyId, apiKeyMatches, generateApiKey, hashApiKey } from './api-key.util';
import { Authenticator } from './authenticator';

describe('API keys', () => {
  it('are weft_<id>_<secret>, stored as the sha256 of the whole key', () => {
    const made = generateApiKey();
    expect(made.key).toMatch(/^weft_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(apiKeyId(made.key)).toBe(made.id);
    expect(made.hash).toBe(hashApiKey(made.key));
    // The secret is everything after `weft_<id>_` (base64url: it may hold `_` itself, even first).
    const secret = made.key.slice(`weft_${made.id}_`.length);
    expect(secret).toHaveLength(43);
    expect(made.hash).not.toContain(secret);
    expect(apiKeyMatches(made.key, made.hash)).toBe(true);
    expect(apiKeyMatches(`${made.key.slice(0, -1)}x`, made.hash)).toBe(false);
    expect(apiKeyId('weft_short_x')).toBeUndefined();
  });
});

describe('Authenticator', () => {
  const made = generateApiKey();
  const records = new Map<string, ApiKeyRecord>([[made.id, { id: made.id, namespace: 'team-a', name: null, hash: made.hash, createdAt: 0, revokedAt: null }]]);
  const keys = { find: async (id: string) => records.get(id) };

  it('maps a valid bearer key to its namespace', async () => {
    await expect(new Authenticator(keys, { anonymous: false }).authenticate(`Bearer ${made.key}`)).resolves.toEqual({ namespace: 'team-a', keyId: made.id });
    await expect(new Authenticator(keys, { anonymous: true }).authenticate(`bearer  ${made.key} `)).resolves.toEqual({ namespace: 'team-a', keyId: made.id });
  });

  it('lets no key through only in anonymous mode, as namespace default', async () => {
    await expect(new Authenticator(keys, { anonymous: true }).authenticate(undefined)).resolves.toEqual({ namespace: 'default', keyId: null });
    await expect(new Authenticator(keys, { anonymous: false }).authenticate(undefined)).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('takes the admin credential (WEFT_ADMIN_KEY) as an admin caller of default, and nothing close to it', async () => {
    const adminKey = 'an-operator-secret-of-at-least-32-chars';
    const auth = new Authenticator(keys, { anonymous: true, adminKey });
    await expect(auth.authenticate(`Bearer ${adminKey}`)).resolves.toEqual({ namespace: 'default', keyId: null, admin: true });
    for (const header of [`Bearer ${adminKey}x`, `Bearer ${adminKey.slice(0, -1)}`, `Bearer ${adminKey.toUpperCase()}`]) {
      await expect(auth.authenticate(header)).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
    // Without one configured, nothing is admin; anonymous callers never are.
    await expect(new Authenticator(keys, { anonymous: true }).authenticate(`Bearer ${adminKey}`)).rejects.toMatchObject({ status: 401 });
    await expect(auth.authenticate(undefined)).resolves.toEqual({ namespace: 'default', keyId: null });
  });

  it('refuses malformed, unknown, wrong and revoked keys alike, even in anonymous mode', async () => {
    const auth = new Authenticator(keys, { anonymous: true });
    const other = generateApiKey();
    for (const header of ['Basic abc', 'Bearer', 'Bearer nope', `Bearer ${other.key}`, `Bearer weft_${made.id}_${'A'.repeat(43)}`]) {
      await expect(auth.authenticate(header)).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
    records.set(made.id, { ...(records.get(made.id) as ApiKeyRecord), revokedAt: 1 });
    await expect(auth.authenticate(`Bearer ${made.key}`)).rejects.toMatchObject({ message: 'the API key is not valid' });
  });
});
