import { withTransaction } from '@weft/db';
import type { DataSource } from 'typeorm';
import { generateApiKey } from './api-key.util';

export interface ApiKeyRecord {
  id: string;
  namespace: string;
  name: string | null;
  hash: string;
  createdAt: number;
  revokedAt: number | null;
}

interface KeyRow {
  id: string;
  namespace: string;
  name: string | null;
  hash: string;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, namespace, name, hash, created_at, revoked_at';

/** API keys and the namespaces they open (the `api_keys` and `namespaces` tables). */
export class SqlApiKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Creates a key (and its namespace, when new); the key is in the result and nowhere else. */
  create(namespace: string, name: string | null): Promise<{ key: string; record: ApiKeyRecord }> {
    const made = generateApiKey();
    return withTransaction(this.dataSource, async (tx) => {
      await tx.query('INSERT INTO namespaces (name) VALUES ($1) ON CONFLICT DO NOTHING', [namespace]);
      const rows: KeyRow[] = await tx.query(`INSERT INTO api_keys (id, namespace, name, hash) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`, [
        made.id,
        namespace,
        name,
        made.hash,
      ]);
      return { key: made.key, record: toRecord(rows[0]) };
    });
  }

  async find(id: string): Promise<ApiKeyRecord | undefined> {
    const rows: KeyRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async list(namespace: string): Promise<ApiKeyRecord[]> {
    const rows: KeyRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM api_keys WHERE namespace = $1 ORDER BY created_at, id`, [namespace]);
    return rows.map(toRecord);
  }

  /** Revokes a key of the namespace; undefined when it has no such key. Revoking twice keeps the first time. */
  async revoke(namespace: string, id: string): Promise<ApiKeyRecord | undefined> {
    const rows: KeyRow[] = await this.dataSource.query(
      `WITH done AS (UPDATE api_keys SET revoked_at = coalesce(revoked_at, clock_timestamp()) WHERE namespace = $1 AND id = $2 RETURNING ${COLUMNS})
       SELECT * FROM done`,
      [namespace, id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }
}

function toRecord(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    namespace: row.namespace,
    name: row.name,
    hash: row.hash,
    createdAt: new Date(row.created_at).getTime(),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at).getTime(),
  };
}
