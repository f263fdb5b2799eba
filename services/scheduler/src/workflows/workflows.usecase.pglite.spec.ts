import { parseWorkflow, type WorkflowSpec } from '@weft/core';
import { PgliteDatabase } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import type { DataSource } from 'typeorm';
import { openSqlRunStore } from '../persistence';
import { SqlWorkflowRepository } from './sql-workflow.repository';
import { StoredWorkflowCatalog } from './stored-workflow.catalog';
import { InvalidSpecError } from './workflow.errors';
import { WorkflowsUseCase } from './workflows.usecase';

// One embedded database for the file (starting PGlite takes seconds); each test gets its own schema.
let database: Promise<PgliteDatabase> | undefined;
const shared = () => (database ??= PgliteDatabase.open());
beforeAll(() => shared(), 120_000);
afterAll(async () => {
  if (database) await (await database).release();
});

let dataSource: DataSource;
let schema: string;
let workflows: WorkflowsUseCase;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  const pglite = await shared();
  schema = randomSchemaName();
  const opened = await openSqlRunStore({ kind: 'pglite', schema }, { pglite });
  dataSource = opened.dataSource;
  workflows = new WorkflowsUseCase(new SqlWorkflowRepository(dataSource));
  cleanup = async () => {
    await opened.store.close();
    await opened.dataSource.destroy();
    await pglite.query(`DROP SCHEMA "${schema}" CASCADE`);
  };
});
afterEach(() => cleanup());

const spec = (name = 'hello', message = 'hi'): WorkflowSpec => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name,
  steps: [{ id: 'greet', action: 'log', with: { message } }],
});

const rows = async (sql: string, params: unknown[] = []): Promise<unknown[]> => dataSource.query(sql, params);

describe('WorkflowsUseCase (PGlite)', () => {
  it('creates a workflow from a spec: named after it, draft at revision 1, nothing published', async () => {
    const created = await workflows.create('default', { spec: { spec: spec() } });
    expect(created).toMatchObject({ name: 'hello', namespace: 'default', draftRevision: 1, publishedVersion: null, latestVersion: null, description: null });
    expect(created.draftSpec).toEqual(spec());
    expect(await workflows.get('default', 'hello')).toEqual(created);
    expect(await workflows.get('default', created.id)).toEqual(created);
  });

  it('refuses a second workflow of the same name, a missing name, and an invalid spec, writing nothing', async () => {
    await workflows.create('default', { name: 'taken' });
    await expect(workflows.create('default', { name: 'taken' })).rejects.toMatchObject({ code: 'WORKFLOW_EXISTS' });
    await expect(workflows.create('default', {})).rejects.toBeInstanceOf(InvalidSpecError);
    const bad = { ...spec(), steps: [{ id: 'a', action: 'noop', needs: ['ghost'] }] };
    const error: unknown = await workflows.create('default', { spec: { spec: bad } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidSpecError);
    // The same diagnostics as `weft validate`, minus positions (an object has no lines).
    const expected = parseWorkflow(JSON.stringify(bad), '').diagnostics.map((d) => [d.path, d.code, d.message]);
    expect((error as InvalidSpecError).diagnostics.map((d) => [d.path, d.code, d.message])).toEqual(expected);
    expect(expected[0]).toEqual(['steps[0].needs[0]', 'UNKNOWN_NEED', expect.stringContaining('ghost')]);
    expect(await rows('SELECT name FROM workflows ORDER BY name')).toEqual([{ name: 'taken' }]);
  });

  it('keys diagnostics of YAML text to its lines', async () => {
    const yaml = 'apiVersion: weft/v1\nkind: Workflow\nname: hello\nsteps:\n  - id: a\n    action: noop\n    needs: [nope]\n';
    const error = (await workflows.create('default', { spec: { source: yaml } }).catch((e: unknown) => e)) as InvalidSpecError;
    expect(error.diagnostics[0]).toMatchObject({ path: 'steps[0].needs[0]', line: 7 });
  });

  it('saves drafts with a revision check: a stale revision changes nothing', async () => {
    const created = await workflows.create('default', { spec: { spec: spec() } });
    const saved = await workflows.saveDraft('default', 'hello', { spec: spec('hello', 'two') }, 1);
    expect(saved.draftRevision).toBe(2);
    await expect(workflows.saveDraft('default', created.id, { spec: spec('hello', 'three') }, 1)).rejects.toMatchObject({ code: 'STALE_REVISION' });
    const unconditional = await workflows.saveDraft('default', created.id, { spec: spec('hello', 'four') });
    expect(unconditional.draftRevision).toBe(3);
    expect(unconditional.draftSpec).toEqual(spec('hello', 'four'));
    await expect(workflows.saveDraft('default', created.id, { spec: spec('other') })).rejects.toMatchObject({
      diagnostics: [expect.objectContaining({ path: 'name', code: 'NAME_MISMATCH' })],
    });
    expect((await workflows.get('default', 'hello')).draftRevision).toBe(3);
  });

  it('saves nothing when the draft is unchanged (any key order, or YAML text): same revision, same time', async () => {
    const created = await workflows.create('default', { spec: { spec: spec() } });
    const reordered = { steps: [{ with: { message: 'hi' }, action: 'log', id: 'greet' }], name: 'hello', kind: 'Workflow', apiVersion: 'weft/v1' } as WorkflowSpec;
    const same = await workflows.saveDraft('default', 'hello', { spec: reordered });
    expect(same).toEqual(created);
    const fromYaml = await workflows.saveDraft('default', 'hello', { source: 'apiVersion: weft/v1\nkind: Workflow\nname: hello\nsteps:\n  - { id: greet, action: log, with: { message: hi } }\n' }, 1);
    expect(fromYaml).toMatchObject({ draftRevision: 1, updatedAt: created.updatedAt });
    expect(await rows('SELECT draft_revision FROM workflows WHERE id = $1', [created.id])).toEqual([{ draft_revision: 1 }]);

    // If-Match is checked first: a stale revision is refused even when the spec is the current one.
    const changed = await workflows.saveDraft('default', 'hello', { spec: spec('hello', 'two') }, 1);
    expect(changed.draftRevision).toBe(2);
    await expect(workflows.saveDraft('default', 'hello', { spec: spec('hello', 'two') }, 1)).rejects.toMatchObject({ code: 'STALE_REVISION' });
    expect(await workflows.saveDraft('default', 'hello', { spec: spec('hello', 'two') }, 2)).toEqual(changed);
    // An invalid spec is still refused, not compared.
    await expect(workflows.saveDraft('default', 'hello', { spec: spec('other', 'two') })).rejects.toBeInstanceOf(InvalidSpecError);
    // A workflow registered without a draft gets one on the first save.
    await workflows.create('default', { name: 'empty' });
    expect(await workflows.saveDraft('default', 'empty', { spec: spec('empty') })).toMatchObject({ draftRevision: 1 });
  });

  it('freezes drafts into versions; the same spec (any key order) is the same version', async () => {
    await workflows.create('default', { spec: { spec: spec() } });
    const first = await workflows.freeze('default', 'hello');
    expect(first).toMatchObject({ created: true, version: { version: 1, archived: false, hash: expect.stringMatching(/^sha256:/) } });
    const reordered = { steps: [{ with: { message: 'hi' }, action: 'log', id: 'greet' }], name: 'hello', kind: 'Workflow', apiVersion: 'weft/v1' } as WorkflowSpec;
    await workflows.saveDraft('default', 'hello', { spec: reordered });
    expect(await workflows.freeze('default', 'hello')).toMatchObject({ created: false, version: { version: 1 } });
    await workflows.saveDraft('default', 'hello', { spec: spec('hello', 'changed') });
    expect(await workflows.freeze('default', 'hello')).toMatchObject({ created: true, version: { version: 2 } });
    expect((await workflows.versions('default', 'hello')).versions.map((v) => v.version)).toEqual([2, 1]);
    expect((await workflows.version('default', 'hello', 1)).version.spec).toEqual(spec());
    expect((await workflows.get('default', 'hello')).latestVersion).toBe(2);
    await expect(workflows.version('default', 'hello', 9)).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
  });

  it('freezes nothing without a draft', async () => {
    await workflows.create('default', { name: 'empty' });
    await expect(workflows.freeze('default', 'empty')).rejects.toMatchObject({ code: 'NO_DRAFT' });
  });

  it('publishes and archives under the rules: the published version cannot be archived, an archived one cannot run', async () => {
    await workflows.create('default', { spec: { spec: spec() } });
    await workflows.freeze('default', 'hello');
    await workflows.saveDraft('default', 'hello', { spec: spec('hello', 'v2') });
    await workflows.freeze('default', 'hello');
    await expect(workflows.resolveForRun('default', 'hello')).rejects.toMatchObject({ code: 'NO_PUBLISHED_VERSION' });
    expect((await workflows.publish('default', 'hello', 1)).publishedVersion).toBe(1);
    expect(await workflows.resolveForRun('default', 'hello')).toMatchObject({ version: 1, spec: spec() });
    expect(await workflows.resolveForRun('default', 'hello', 2)).toMatchObject({ version: 2, spec: spec('hello', 'v2') });
    await expect(workflows.archive('default', 'hello', 1)).rejects.toMatchObject({ code: 'VERSION_PUBLISHED' });
    expect((await workflows.archive('default', 'hello', 2)).archived).toBe(true);
    await expect(workflows.publish('default', 'hello', 2)).rejects.toMatchObject({ code: 'VERSION_ARCHIVED' });
    await expect(workflows.resolveForRun('default', 'hello', 2)).rejects.toMatchObject({ code: 'VERSION_ARCHIVED' });
    await expect(workflows.publish('default', 'hello', 7)).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
  });

  it('keeps namespaces apart: the same name twice, and neither sees the other', async () => {
    const a = await workflows.create('team-a', { spec: { spec: spec() } });
    const b = await workflows.create('team-b', { spec: { spec: spec('hello', 'b') } });
    expect(a.id).not.toBe(b.id);
    await expect(workflows.get('team-a', b.id)).rejects.toMatchObject({ code: 'WORKFLOW_NOT_FOUND' });
    await expect(workflows.delete('team-b', a.id)).rejects.toMatchObject({ code: 'WORKFLOW_NOT_FOUND' });
    expect((await workflows.list('team-a', { limit: 10 })).map((w) => w.id)).toEqual([a.id]);
  });

  it('lists by name, a page at a time, and deletes with the versions', async () => {
    for (const name of ['c-flow', 'a-flow', 'b-flow']) await workflows.create('default', { spec: { spec: spec(name) } });
    expect((await workflows.list('default', { limit: 2 })).map((w) => w.name)).toEqual(['a-flow', 'b-flow']);
    expect((await workflows.list('default', { limit: 2, after: 'b-flow' })).map((w) => w.name)).toEqual(['c-flow']);
    await workflows.freeze('default', 'a-flow');
    await workflows.delete('default', 'a-flow');
    expect(await rows("SELECT version FROM workflow_versions WHERE workflow = 'a-flow'")).toEqual([]);
    expect((await workflows.update('default', 'b-flow', { description: 'the b one' })).description).toBe('the b one');
  });

  it('serves the scheduler as its WorkflowCatalog (published, or a named version; unknown otherwise)', async () => {
    const catalog = new StoredWorkflowCatalog(workflows);
    await workflows.create('default', { spec: { spec: spec() } });
    expect(await catalog.resolve('hello')).toBeUndefined();
    await workflows.freeze('default', 'hello');
    await workflows.publish('default', 'hello', 1);
    expect(await catalog.resolve('hello')).toEqual({ spec: spec(), version: '1' });
    expect(await catalog.resolve('hello', '1')).toEqual({ spec: spec(), version: '1' });
    expect(await catalog.resolve('hello', '2')).toBeUndefined();
    expect(await catalog.resolve('hello', 'adhoc')).toBeUndefined();
    expect(await catalog.resolve('nope')).toBeUndefined();
    expect(await new StoredWorkflowCatalog(workflows, 'other').resolve('hello')).toBeUndefined();
    // A request naming its namespace resolves there, not in the catalog's default.
    expect(await catalog.resolve('hello', undefined, 'other')).toBeUndefined();
    expect(await new StoredWorkflowCatalog(workflows, 'other').resolve('hello', undefined, 'default')).toEqual({ spec: spec(), version: '1' });
  });
});

describe('SqlWorkflowRepository (PGlite)', () => {
  it('detects a stale draft in the database, not only in the use case', async () => {
    const repository = new SqlWorkflowRepository(dataSource);
    const created = await repository.create('default', { name: 'hello', description: null, draftSpec: spec() });
    expect(await repository.saveDraft('default', created.id, spec('hello', 'x'), 0)).toBe('stale');
    expect(await repository.saveDraft('default', created.id, spec('hello', 'x'), 1)).toMatchObject({ draftRevision: 2 });
    expect(await repository.saveDraft('default', '00000000-0000-0000-0000-000000000000', spec())).toBeUndefined();
    expect(await repository.delete('default', '00000000-0000-0000-0000-000000000000')).toBe(false);
    expect(await repository.delete('default', created.id)).toBe(true);
  });
});
