import type { DataSource } from 'typeorm';

/** The leader lease of the service's replicas (`trigger_leases`), in database time. */
export class SqlLeaseStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Takes or renews the lease when free, expired or already ours (database time). */
  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `INSERT INTO trigger_leases (name, holder, expires_at) VALUES ($1, $2, now() + ($3::double precision * interval '1 millisecond'))
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
        WHERE trigger_leases.holder = EXCLUDED.holder OR trigger_leases.expires_at < now()
       RETURNING holder`,
      [name, holder, ttlMs],
    )) as { holder: string }[];
    return rows.length > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM trigger_leases WHERE name = $1 AND holder = $2`, [name, holder]);
  }

  async leaseHolder(name: string): Promise<{ holder: string; expiresAt: number } | undefined> {
    const rows = (await this.dataSource.query(`SELECT holder, expires_at FROM trigger_leases WHERE name = $1`, [name])) as { holder: string; expires_at: Date }[];
    return rows[0] && { holder: rows[0].holder, expiresAt: new Date(rows[0].expires_at).getTime() };
  }
}
