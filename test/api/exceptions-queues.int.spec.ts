import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { builtinActions, createWorker, silentLogger } from '@weft/worker';
import { type ApiApp, NATS_TEST_URL, startApiApp } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';

/**
 * Issue 13 item 6, the rest of the exception queue: a queue with dispatched work and no live
 * worker (the worker announcements `why` reads) is one `blocked` item `queue:<name>`, gone when
 * a worker for it comes; a quarantined outbox row is a `dead-letter` item with its reason. Both
 * per namespace, resolvable with a note (audit record), one by one or in bulk.
 */

interface Item {
  kind: string;
  id: string;
  workflow: string;
  runId: string;
  stepId: string | null;
  summary: string;
  resolved: { note: string } | null;
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

const onQueue = (name: string, queue: string) => ({ apiVersion: 'weft/v1', kind: 'Workflow', name, steps: [{ id: 'only', action: 'transform', queue, with: { expr: '1' } }] });

describeDistributed('queues without a worker and dead letters in the exception queue (NATS JetStream + PostgreSQL)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;

  beforeAll(async () => {
    // No worker at all; the catalog has listened long enough at once (workers of a test announce every 200 ms).
    app = await startApiApp({ worker: false, workerSettleMs: 0 });
    key = await app.key();
  }, 30_000);

  afterAll(async () => {
    await app?.close();
  }, 30_000);

  const list = async (query: string, apiKey = key): Promise<Item[]> => (await json<{ items: Item[] }>(await app.request('GET', `/v1/exceptions?${query}`, { key: apiKey }))).items;
  const start = async (spec: object): Promise<string> => (await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec } }))).runId;

  it('lists a queue with work and no live worker as blocked until a worker serves it; resolvable per spell', async () => {
    const first = await start(onQueue('ghostly', 'ghost'));
    await start(onQueue('ghostly', 'ghost'));
    let items: Item[] = [];
    await waitFor(
      async () => {
        items = (await list('kind=blocked')).filter((i) => i.id === 'queue:ghost');
        return items.length === 1 && items[0]?.summary.includes('2 dispatched step(s) of 2 run(s)') === true;
      },
      { timeoutMs: 10_000, what: 'queue ghost to be listed as blocked' },
    );
    expect(items[0]).toMatchObject({ kind: 'blocked', id: 'queue:ghost', workflow: 'ghostly', runId: first, stepId: 'only', summary: 'queue ghost: 2 dispatched step(s) of 2 run(s), and no live worker serves it' });
    expect((await list('kind=blocked&workflow=other')).filter((i) => i.id === 'queue:ghost')).toEqual([]);

    // Another namespace sees nothing of it and cannot resolve it.
    const stranger = await app.key('team-queues-other');
    expect(await list('', stranger)).toEqual([]);
    expect((await app.request('POST', '/v1/exceptions/blocked/queue:ghost/resolve', { key: stranger, json: { note: 'not mine' } })).status).toBe(404);

    // Bulk retry or cancel does not act on a queue (a worker is what it needs): skipped.
    const bulk = await json<{ matched: number; done: number }>(await app.request('POST', '/v1/exceptions/bulk', { key, json: { filter: { kind: 'blocked', workflow: 'ghostly' }, action: 'cancel' } }));
    expect(bulk).toMatchObject({ matched: 1, done: 0 });
    expect((await app.store.getRun(first))?.status).toBe('running');

    expect((await app.request('POST', '/v1/exceptions/blocked/queue:ghost/resolve', { key, json: { note: 'worker on its way' } })).status).toBe(200);
    expect((await app.request('POST', '/v1/exceptions/blocked/queue:ghost/resolve', { key, json: { note: 'again' } })).status).toBe(409);
    expect((await list('kind=blocked')).filter((i) => i.id === 'queue:ghost')).toEqual([]);
    expect((await list('kind=blocked&resolved=true')).filter((i) => i.id === 'queue:ghost')).toEqual([expect.objectContaining({ resolved: expect.objectContaining({ note: 'worker on its way' }) })]);

    // A worker serving the queue takes the work: the queue leaves the list for good.
    const worker = createWorker({ bus: app.bus, queues: ['ghost'], actions: builtinActions(), logger: silentLogger, concurrency: 4, announceIntervalMs: 200 });
    await worker.start();
    try {
      await waitFor(async () => (await app.store.getRun(first))?.status === 'completed', { timeoutMs: 15_000, what: 'the ghost queue run to complete' });
      const later = await start(onQueue('ghostly', 'ghost'));
      await waitFor(async () => (await app.store.getRun(later))?.status === 'completed', { timeoutMs: 15_000, what: 'a later run on the served queue' });
      expect((await list('kind=blocked&resolved=true')).filter((i) => i.id === 'queue:ghost')).toEqual([]);
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('lists a quarantined outbox row as a dead letter with its reason, per namespace, resolvable in bulk', async () => {
    const runId = await start(onQueue('lettered', 'nowhere'));
    // The row the outbox quarantines when the broker refuses it for good (issue 12's OutboxQuarantine writes these columns).
    const rows = await app.query<{ id: string }>(
      `INSERT INTO outbox (run_id, kind, subject, payload, msg_id, quarantined_at, quarantine_reason)
       VALUES ($1, 'publish', 'weft.step.dispatch.nowhere', '{}'::jsonb, $2, clock_timestamp(), 'PAYLOAD_TOO_LARGE: 9 MB over max_payload') RETURNING id::text AS id`,
      [runId, `poison-${runId}`],
    );
    const id = `outbox:${rows[0]?.id ?? ''}`;
    const letters = await list('kind=dead-letter');
    expect(letters).toEqual([
      expect.objectContaining({ kind: 'dead-letter', id, workflow: 'lettered', runId, stepId: null, summary: 'weft.step.dispatch.nowhere: PAYLOAD_TOO_LARGE: 9 MB over max_payload' }),
    ]);
    const stranger = await app.key('team-letters-other');
    expect(await list('kind=dead-letter', stranger)).toEqual([]);
    expect(await json(await app.request('POST', '/v1/exceptions/bulk', { key: stranger, json: { filter: { kind: 'dead-letter' }, action: 'resolve', note: 'x' } }))).toMatchObject({ matched: 0, done: 0 });

    const resolved = await json(await app.request('POST', '/v1/exceptions/bulk', { key, json: { filter: { kind: 'dead-letter', workflow: 'lettered' }, action: 'resolve', note: 'payload split upstream' } }));
    expect(resolved).toEqual({ matched: 1, done: 1, skipped: 0, more: false });
    expect(await list('kind=dead-letter')).toEqual([]);
    const audit = await json<{ items: { action: string; target: unknown; details: unknown }[] }>(await app.request('GET', `/v1/audit?action=exception.resolved&target=dead-letter:${id}`, { key }));
    expect(audit.items).toEqual([expect.objectContaining({ target: { kind: 'dead-letter', id }, details: { note: 'payload split upstream' } })]);
  }, 30_000);

  it('lists a message the bus dead-lettered on delivery in the namespace of the run it names; resolvable once', async () => {
    const runId = await start(onQueue('poisoned', 'nowhere'));
    // A step result that breaks its contract, straight on the wire: the scheduler's consumer dead-letters it.
    const nc = await connect({ servers: NATS_TEST_URL, name: 'weft-poison-test' });
    try {
      await jetstream(nc).publish(`${app.prefix}.weft.step.result`, JSON.stringify({ runId, stepId: 'only', garbage: true }));
    } finally {
      await nc.close();
    }
    let letter: Item | undefined;
    await waitFor(
      async () => {
        letter = (await list('kind=dead-letter')).find((i) => i.id.startsWith('bus:'));
        return letter !== undefined;
      },
      { timeoutMs: 15_000, what: 'the dead letter in the exception queue' },
    );
    expect(letter).toMatchObject({ kind: 'dead-letter', workflow: 'poisoned', runId, stepId: 'only', summary: expect.stringMatching(/^weft\.step\.result: .+ \(\d+ deliveries\)$/) });
    const id = letter?.id ?? '';
    const stranger = await app.key('team-bus-letters-other');
    expect(await list('kind=dead-letter', stranger)).toEqual([]);
    expect((await app.request('POST', `/v1/exceptions/dead-letter/${id}/resolve`, { key: stranger, json: { note: 'not mine' } })).status).toBe(404);
    expect((await app.request('POST', `/v1/exceptions/dead-letter/${id}/resolve`, { key, json: { note: 'bad producer fixed' } })).status).toBe(200);
    expect((await app.request('POST', `/v1/exceptions/dead-letter/${id}/resolve`, { key, json: { note: 'again' } })).status).toBe(409);
    expect((await list('kind=dead-letter')).filter((i) => i.id === id)).toEqual([]);
    expect((await list('kind=dead-letter&resolved=true')).filter((i) => i.id === id)).toEqual([expect.objectContaining({ resolved: expect.objectContaining({ note: 'bad producer fixed' }) })]);
  }, 30_000);
});
