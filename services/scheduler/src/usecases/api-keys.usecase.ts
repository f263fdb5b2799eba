import type { ApiKeyRecord, Caller, SqlApiKeyRepository } from '@weft/platform';
import { ApiError } from '../api/http/api.errors';

/**
 * API keys of the caller's namespace. A key, and an anonymous caller (dev mode on loopback,
 * namespace `default`), may make keys for its own namespace only; another namespace takes
 * the operator's admin credential (WEFT_ADMIN_KEY) or `weft keys create` on the database.
 * Loopback is no credential: a workflow's http.request could come from there.
 */
export class ApiKeysUseCase {
  constructor(private readonly keys: Pick<SqlApiKeyRepository, 'create' | 'list' | 'revoke'>) {}

  create(caller: Caller, request: { namespace?: string; name?: string }): Promise<{ key: string; record: ApiKeyRecord }> {
    const namespace = request.namespace ?? caller.namespace;
    if (namespace !== caller.namespace && caller.admin !== true) {
      const who = caller.keyId === null ? 'an anonymous caller (namespace default)' : `a key of namespace ${caller.namespace}`;
      throw new ApiError('FORBIDDEN', `${who} cannot make keys for ${namespace}: that takes the admin credential (WEFT_ADMIN_KEY) or \`weft keys create\` on the server`);
    }
    return this.keys.create(namespace, request.name ?? null);
  }

  list(caller: Caller): Promise<ApiKeyRecord[]> {
    return this.keys.list(caller.namespace);
  }

  async revoke(caller: Caller, keyId: string): Promise<ApiKeyRecord> {
    const revoked = await this.keys.revoke(caller.namespace, keyId);
    if (!revoked) throw new ApiError('KEY_NOT_FOUND', `no key ${keyId}`);
    return revoked;
  }
}
