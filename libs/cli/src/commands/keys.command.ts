import { DEFAULT_NAMESPACE, NAMESPACE_PATTERN, openSqlRunStore, SqlApiKeyRepository } from '@weft/scheduler';
import { ConfigError, databaseConfigOf, loadConfig } from '@weft/config';
import { type ApiFlags, apiClient, CliUsageError, withApi } from '../api-client/api-connection';
import { printList } from '../api-client/table.util';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

export interface KeysCreateFlags extends ApiFlags {
  namespace?: string;
  name?: string;
  json?: boolean;
}

/**
 * `weft keys create --namespace <n>`: a new API key, printed once (only its hash is kept).
 * With --api (or WEFT_API_URL) it asks a running deployment (a key may make keys for its
 * own namespace; `weft dev` on loopback for any); without, it writes straight to the
 * database (DATABASE_URL, or PGlite in WEFT_DATA_DIR), as `weft migrate` does.
 */
export async function keysCreate(flags: KeysCreateFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const namespace = flags.namespace ?? DEFAULT_NAMESPACE;
  if (!NAMESPACE_PATTERN.test(namespace)) {
    io.err(`--namespace: expected a kebab-case name such as team-a (got ${JSON.stringify(namespace)})`);
    return EXIT.invalid;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.invalid;
    }
    throw error;
  }
  if (flags.api !== undefined || config.WEFT_API_URL !== undefined) {
    return withApi(io, async () => {
      const created = await apiClient(flags, env).keys.create({ namespace, ...(flags.name && { name: flags.name }) });
      print(io, flags, { key: created.key, keyId: created.keyId, namespace: created.namespace });
      return EXIT.ok;
    });
  }
  const { store, dataSource } = await openSqlRunStore(databaseConfigOf(config), { migrate: config.WEFT_MIGRATE });
  try {
    const { key, record } = await new SqlApiKeyRepository(dataSource).create(namespace, flags.name ?? null);
    print(io, flags, { key, keyId: record.id, namespace: record.namespace });
    return EXIT.ok;
  } finally {
    await store.close();
    await dataSource.destroy();
  }
}

function print(io: Io, flags: KeysCreateFlags, made: { key: string; keyId: string; namespace: string }): void {
  if (flags.json) {
    io.out(JSON.stringify(made, null, 2));
    return;
  }
  io.out(made.key);
  io.err(`key ${made.keyId} for namespace ${made.namespace}: shown once, keep it (export WEFT_API_KEY=...)`);
}

/** `weft keys list` (over the API only): the keys of the caller's namespace, never the keys themselves. */
export async function keysList(flags: ApiFlags & { json?: boolean }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    const keys = await apiClient(flags, env).keys.list();
    printList(io, flags, {
      items: keys,
      empty: 'no keys',
      header: ['KEY ID', 'NAMESPACE', 'NAME', 'CREATED', 'REVOKED'],
      row: (k) => [k.keyId, k.namespace, k.name ?? '-', k.createdAt, k.revokedAt ?? '-'],
    });
    return EXIT.ok;
  });
}

/** `weft keys revoke <keyId>` (over the API only): the key stops working at once (401). */
export async function keysRevoke(keyId: string, flags: ApiFlags & { json?: boolean }, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withApi(io, async () => {
    if (keyId.trim() === '') throw new CliUsageError('<keyId>: expected a key id (weft keys list)');
    const key = await apiClient(flags, env).keys.revoke(keyId);
    io.out(flags.json ? JSON.stringify(key, null, 2) : `key ${key.keyId} (namespace ${key.namespace}) revoked${key.revokedAt ? ` at ${key.revokedAt}` : ''}`);
    return EXIT.ok;
  });
}
