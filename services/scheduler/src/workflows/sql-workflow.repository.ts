import type { WorkflowSpec } from '@weft/core';
import { sqlState, withTransaction } from '@weft/db';
import type { DataSource, EntityManager } from 'typeorm';
import { WorkflowError } from './workflow.errors';
import type { NewWorkflow, VersionRecord, VersionWithSpec, WorkflowRecord, WorkflowRepository } from './workflow.repository';

type Sql = Pick<EntityManager, 'query'>;

interface WorkflowRow {
  id: string;
  namespace: string;
  name: string;
  description: string | null;
  draft_spec: WorkflowSpec | null;
  draft_revision: number;
  published_version: number | null;
  latest_version: number | null;
  created_at: Date;
  updated_at: Date;
}

interface VersionRow {
  namespace: string;
  workflow: string;
  version: number;
  hash: string;
  archived: boolean;
  created_at: Date;
  spec?: WorkflowSpec;
}

const WORKFLOW_COLUMNS = `w.id::text AS id, w.namespace, w.name, w.description, w.draft_spec, w.draft_revision, w.published_version,
  (SELECT max(v.version) FROM workflow_versions v WHERE v.namespace = w.namespace AND v.workflow = w.name) AS latest_version,
  w.created_at, w.updated_at`;
const VERSION_COLUMNS = 'namespace, workflow, version, hash, archived, created_at';
const UNIQUE_VIOLATION = '23505';

/** WorkflowRepository on PostgreSQL or PGlite (the scheduler's `workflows` and `workflow_versions`). */
export class SqlWorkflowRepository implements WorkflowRepository {
  constructor(private readonly dataSource: DataSource) {}

  async create(namespace: string, workflow: NewWorkflow): Promise<WorkflowRecord> {
    try {
      const rows: { id: string }[] = await this.dataSource.query(
        `INSERT INTO workflows (namespace, name, description, draft_spec, draft_revision)
         VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING id::text AS id`,
        [namespace, workflow.name, workflow.description, json(workflow.draftSpec), workflow.draftSpec === null ? 0 : 1],
      );
      return await this.must(this.dataSource, namespace, rows[0].id);
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION) throw new WorkflowError('WORKFLOW_EXISTS', `workflow ${workflow.name} already exists`, { cause: error });
      throw error;
    }
  }

  async list(namespace: string, page: { after?: string; limit: number }): Promise<WorkflowRecord[]> {
    const rows: WorkflowRow[] = await this.dataSource.query(
      `SELECT ${WORKFLOW_COLUMNS} FROM workflows w WHERE w.namespace = $1 AND ($2::text IS NULL OR w.name > $2) ORDER BY w.name LIMIT $3`,
      [namespace, page.after ?? null, page.limit],
    );
    return rows.map(toWorkflow);
  }

  find(namespace: string, ref: string): Promise<WorkflowRecord | undefined> {
    return this.findIn(this.dataSource, namespace, ref);
  }

  async update(namespace: string, id: string, changes: { description?: string | null }): Promise<WorkflowRecord | undefined> {
    if (changes.description !== undefined) {
      await this.dataSource.query('UPDATE workflows SET description = $3, updated_at = clock_timestamp() WHERE namespace = $1 AND id::text = $2', [
        namespace,
        id,
        changes.description,
      ]);
    }
    return this.findIn(this.dataSource, namespace, id);
  }

  async delete(namespace: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('WITH gone AS (DELETE FROM workflows WHERE namespace = $1 AND id::text = $2 RETURNING 1) SELECT * FROM gone', [
      namespace,
      id,
    ]);
    return rows.length > 0;
  }

  async saveDraft(namespace: string, id: string, spec: WorkflowSpec, expectedRevision?: number): Promise<WorkflowRecord | 'stale' | undefined> {
    return withTransaction(this.dataSource, async (tx) => {
      const rows: unknown[] = await tx.query(
        `WITH saved AS (
           UPDATE workflows SET draft_spec = $3::jsonb, draft_revision = draft_revision + 1, updated_at = clock_timestamp()
           WHERE namespace = $1 AND id::text = $2 AND ($4::int IS NULL OR draft_revision = $4) RETURNING 1)
         SELECT * FROM saved`,
        [namespace, id, json(spec), expectedRevision ?? null],
      );
      const found = await this.findIn(tx, namespace, id);
      if (!found) return undefined;
      return rows.length === 0 ? 'stale' : found;
    });
  }

  freezeDraft(namespace: string, id: string, hash: (spec: WorkflowSpec) => string): Promise<{ version: VersionRecord; created: boolean }> {
    return withTransaction(this.dataSource, async (tx) => {
      // The row lock serialises freezes of one workflow, so version numbers never collide.
      const locked: WorkflowRow[] = await tx.query(`SELECT ${WORKFLOW_COLUMNS} FROM workflows w WHERE w.namespace = $1 AND w.id::text = $2 FOR UPDATE`, [
        namespace,
        id,
      ]);
      const workflow = locked[0];
      if (!workflow) throw new WorkflowError('WORKFLOW_NOT_FOUND', `no workflow ${id}`);
      if (workflow.draft_spec === null) throw new WorkflowError('NO_DRAFT', `workflow ${workflow.name} has no draft to freeze`);
      const digest = hash(workflow.draft_spec);
      const same: VersionRow[] = await tx.query(`SELECT ${VERSION_COLUMNS} FROM workflow_versions WHERE namespace = $1 AND workflow = $2 AND hash = $3`, [
        namespace,
        workflow.name,
        digest,
      ]);
      if (same[0]) return { version: toVersion(same[0]), created: false };
      const inserted: VersionRow[] = await tx.query(
        `INSERT INTO workflow_versions (namespace, workflow, version, spec, hash)
         SELECT $1, $2, coalesce(max(version), 0) + 1, $3::jsonb, $4 FROM workflow_versions WHERE namespace = $1 AND workflow = $2
         RETURNING ${VERSION_COLUMNS}`,
        [namespace, workflow.name, json(workflow.draft_spec), digest],
      );
      return { version: toVersion(inserted[0]), created: true };
    });
  }

  async listVersions(namespace: string, workflow: string): Promise<VersionRecord[]> {
    const rows: VersionRow[] = await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS} FROM workflow_versions WHERE namespace = $1 AND workflow = $2 ORDER BY version DESC`,
      [namespace, workflow],
    );
    return rows.map(toVersion);
  }

  async getVersion(namespace: string, workflow: string, version: number): Promise<VersionWithSpec | undefined> {
    const rows: (VersionRow & { spec: WorkflowSpec })[] = await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS}, spec FROM workflow_versions WHERE namespace = $1 AND workflow = $2 AND version = $3`,
      [namespace, workflow, version],
    );
    const row = rows[0];
    return row ? { ...toVersion(row), spec: row.spec } : undefined;
  }

  publish(namespace: string, id: string, version: number): Promise<WorkflowRecord> {
    return withTransaction(this.dataSource, async (tx) => {
      const workflow = await this.lock(tx, namespace, id);
      const target = await this.versionIn(tx, namespace, workflow.name, version);
      if (target.archived) throw new WorkflowError('VERSION_ARCHIVED', `version ${version} of ${workflow.name} is archived`);
      await tx.query('UPDATE workflows SET published_version = $3, updated_at = clock_timestamp() WHERE namespace = $1 AND id::text = $2', [namespace, id, version]);
      return this.must(tx, namespace, id);
    });
  }

  archive(namespace: string, id: string, version: number): Promise<VersionRecord> {
    return withTransaction(this.dataSource, async (tx) => {
      const workflow = await this.lock(tx, namespace, id);
      await this.versionIn(tx, namespace, workflow.name, version);
      if (workflow.published_version === version) {
        throw new WorkflowError('VERSION_PUBLISHED', `version ${version} of ${workflow.name} is the published one: publish another first`);
      }
      // A top-level UPDATE comes back from TypeORM as [rows, count]; a CTE keeps it a plain row list.
      const rows: VersionRow[] = await tx.query(
        `WITH done AS (UPDATE workflow_versions SET archived = true WHERE namespace = $1 AND workflow = $2 AND version = $3 RETURNING ${VERSION_COLUMNS})
         SELECT * FROM done`,
        [namespace, workflow.name, version],
      );
      return toVersion(rows[0]);
    });
  }

  private async findIn(sql: Sql, namespace: string, ref: string): Promise<WorkflowRecord | undefined> {
    // An id wins over a name (a name could look like an id).
    const rows: WorkflowRow[] = await sql.query(
      `SELECT ${WORKFLOW_COLUMNS} FROM workflows w WHERE w.namespace = $1 AND (w.id::text = $2 OR w.name = $2) ORDER BY (w.id::text = $2) DESC LIMIT 1`,
      [namespace, ref],
    );
    return rows[0] ? toWorkflow(rows[0]) : undefined;
  }

  private async must(sql: Sql, namespace: string, id: string): Promise<WorkflowRecord> {
    const found = await this.findIn(sql, namespace, id);
    if (!found) throw new WorkflowError('WORKFLOW_NOT_FOUND', `no workflow ${id}`);
    return found;
  }

  private async lock(tx: Sql, namespace: string, id: string): Promise<WorkflowRow> {
    const rows: WorkflowRow[] = await tx.query(`SELECT ${WORKFLOW_COLUMNS} FROM workflows w WHERE w.namespace = $1 AND w.id::text = $2 FOR UPDATE`, [namespace, id]);
    if (!rows[0]) throw new WorkflowError('WORKFLOW_NOT_FOUND', `no workflow ${id}`);
    return rows[0];
  }

  private async versionIn(tx: Sql, namespace: string, workflow: string, version: number): Promise<VersionRecord> {
    const rows: VersionRow[] = await tx.query(`SELECT ${VERSION_COLUMNS} FROM workflow_versions WHERE namespace = $1 AND workflow = $2 AND version = $3`, [
      namespace,
      workflow,
      version,
    ]);
    if (!rows[0]) throw new WorkflowError('VERSION_NOT_FOUND', `workflow ${workflow} has no version ${version}`);
    return toVersion(rows[0]);
  }
}

const json = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));
const millis = (value: Date | string): number => new Date(value).getTime();

function toWorkflow(row: WorkflowRow): WorkflowRecord {
  return {
    id: row.id,
    namespace: row.namespace,
    name: row.name,
    description: row.description,
    draftSpec: row.draft_spec,
    draftRevision: row.draft_revision,
    publishedVersion: row.published_version,
    latestVersion: row.latest_version === null ? null : Number(row.latest_version),
    createdAt: millis(row.created_at),
    updatedAt: millis(row.updated_at),
  };
}

function toVersion(row: VersionRow): VersionRecord {
  return { namespace: row.namespace, workflow: row.workflow, version: row.version, hash: row.hash, archived: row.archived, createdAt: millis(row.created_at) };
}
