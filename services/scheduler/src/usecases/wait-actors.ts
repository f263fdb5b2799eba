import type { Actor } from '@weft/contracts';
import type { Caller, SqlApiKeyRepository } from '@weft/platform';

/** Who a caller is, as decisions and audit records name them: the API key's id and name, or `local` (loopback without a key). */
export class WaitActors {
  constructor(private readonly keys: Pick<SqlApiKeyRepository, 'find'>) {}

  async of(caller: Caller): Promise<Actor> {
    if (caller.keyId === null) return 'local';
    const record = await this.keys.find(caller.keyId);
    return { keyId: caller.keyId, name: record?.name ?? '' };
  }
}
