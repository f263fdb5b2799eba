import type { ApiKeyRecord } from './api-key.repository';
import { generateApiKey } from './api-key.util';

/**
 * Keys held in memory, one per namespace, made at call time: the key table of a test
 * that boots one service's module alone (the real table is the scheduler's `api_keys`).
 */
export function staticApiKeys(namespaces: readonly string[]): { keys: { find(id: string): Promise<ApiKeyRecord | undefined> }; keyOf(namespace: string): string } {
  const records = new Map<string, ApiKeyRecord>();
  const byNamespace = new Map<string, string>();
  for (const namespace of namespaces) {
    const made = generateApiKey();
    records.set(made.id, { id: made.id, namespace, name: null, hash: made.hash, createdAt: 0, revokedAt: null });
    byNamespace.set(namespace, made.key);
  }
  return {
    keys: { find: async (id) => records.get(id) },
    keyOf: (namespace) => {
      const key = byNamespace.get(namespace);
      if (key === undefined) throw new Error(`staticApiKeys: no key for namespace ${namespace}`);
      return key;
    },
  };
}
