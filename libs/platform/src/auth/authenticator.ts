import { DEFAULT_NAMESPACE } from '@weft/contracts';
import { apiKeyId, apiKeyMatches, hashApiKey } from './api-key.util';
import type { SqlApiKeyRepository } from './api-key.repository';
import type { Caller } from './caller';

export { DEFAULT_NAMESPACE };

export interface AuthOptions {
  /**
   * Requests without a key act in namespace `default`, and only there (they may not mint
   * keys for another namespace). Only for a server on loopback (`weft dev`); a key that is
   * sent is still checked.
   */
  anonymous: boolean;
  /**
   * WEFT_ADMIN_KEY: the operator's secret. Presented as `Bearer <it>`, the caller acts in
   * `default` and may mint keys for any namespace (POST /v1/keys). Compared in constant time.
   * @default none: no caller of the API can mint keys outside its own namespace
   */
  adminKey?: string;
}

/** A request without a valid API key: every service answers it 401 `UNAUTHORIZED` (see ProblemDetailsFilter). */
export class UnauthorizedError extends Error {
  readonly code = 'UNAUTHORIZED';
  readonly status = 401;

  constructor(message: string) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

/** `Authorization: Bearer <key>` -> the caller's namespace; 401 for a missing (unless anonymous), unknown, wrong or revoked key. */
export class Authenticator {
  private readonly adminHash: string | undefined;

  constructor(
    private readonly keys: Pick<SqlApiKeyRepository, 'find'>,
    private readonly options: AuthOptions,
  ) {
    this.adminHash = options.adminKey === undefined ? undefined : hashApiKey(options.adminKey);
  }

  get anonymous(): boolean {
    return this.options.anonymous;
  }

  async authenticate(authorization: string | undefined): Promise<Caller> {
    if (authorization === undefined || authorization.trim() === '') {
      if (this.options.anonymous) return { namespace: DEFAULT_NAMESPACE, keyId: null };
      throw new UnauthorizedError('an API key is required: send Authorization: Bearer <key> (create one with `weft keys create`)');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new UnauthorizedError('the Authorization header must be "Bearer <key>"');
    const key = match[1];
    if (this.adminHash !== undefined && apiKeyMatches(key, this.adminHash)) return { namespace: DEFAULT_NAMESPACE, keyId: null, admin: true };
    const id = apiKeyId(key);
    const record = id === undefined ? undefined : await this.keys.find(id);
    // One answer for every way a key can be wrong: no hint which part was.
    if (!record || record.revokedAt !== null || !apiKeyMatches(key, record.hash)) throw new UnauthorizedError('the API key is not valid');
    return { namespace: record.namespace, keyId: record.id };
  }
}
