import type { ApiKeyRecord, Caller, SqlApiKeyRepository } from '@weft/platform';
import { ApiError } from '../api/http/api.errors';

/**
 * API keys of the caller's namespace. A key may make keys for its own namespace only;
 * an anonymous caller (dev mode on loopback) may make them for any namespace.
 */
export class ApiKeysUseCase {
  constructor(private readonly keys: Pick<SqlApiKeyRepository, 'create' | 'list' | 'revoke'>) {}

  create(caller: Caller, request: { namespace?: string; name?: string }): Promise<{ key: string; record: ApiKeyRecord }> {
    const namespace = request.namespace ?? caller.namespace;
    if (caller.keyId !== null && namespace !== caller.namespace) {
      throw new ApiError('FORBIDDEN', `a key of namespace ${caller.namespace} cannot make keys for ${namespace}`);
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
