import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describeWhenReachable } from '@weft/db/testing';
import type { Browser, Page } from 'playwright-core';
import { waitFor } from '../distributed/support/wait.util';
import { buildConsole, consoleNeeds, type Dev, launchChromium, NATS_URL, screenshot, startDev, watchedPage, type WatchedPage } from './console.harness';

// The operator's pages in a real Chromium against `weft dev` on NATS and PostgreSQL: the
// exception queue with its filters and bulk actions, a cron trigger's backfill and test, the
// runs list's prefix search, and the draft editor's completion from the workflow JSON Schema.
// Any console error, uncaught exception or 5xx fails the test.

const failing = (name: string) => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name,
  steps: [{ id: 'charge', action: 'fail', with: { code: 'CARD_DECLINED', message: 'the card was declined' } }],
});
const small = (name: string) => ({ apiVersion: 'weft/v1', kind: 'Workflow', name, steps: [{ id: 'a', action: 'noop' }] });

interface ExceptionJson {
  kind: string;
  id: string;
  runId: string;
  resolved: { note: string } | null;
}

jest.setTimeout(240_000);

describeWhenReachable(
  'web console operations in Chromium against weft dev (NATS + PostgreSQL)',
  consoleNeeds(),
  () => {
    let dev: Dev;
    let browser: Browser;
    let watched: WatchedPage;
    let page: Page;

    beforeAll(async () => {
      await buildConsole();
      [dev, browser] = await Promise.all([startDev(), launchChromium()]);
    }, 180_000);
    beforeEach(async () => {
      watched = await watchedPage(browser);
      page = watched.page;
    });
    afterEach(async () => {
      await page?.context().close();
    });
    afterAll(async () => {
      await browser?.close();
      await dev?.close();
    });

    const openExceptions = async (query: string): Promise<ExceptionJson[]> => (await dev.api<{ items: ExceptionJson[] }>('GET', `/v1/exceptions?${query}`)).json.items;
    const rowCount = (): Promise<number> => page.getByTestId('exception-row').count();

    it('lists the exception queue with filters, resolves one item, and retries and resolves the rest in bulk', async () => {
      const failed: string[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await dev.api<{ runId: string; status: string }>('POST', '/v1/runs/adhoc?mode=sync&wait=30s', { spec: failing('payments'), correlationId: `pay-${i}` });
        expect(run.json.status).toBe('failed');
        failed.push(run.json.runId);
      }
      expect((await dev.api<{ status: string }>('POST', '/v1/runs/adhoc?mode=sync&wait=30s', { spec: failing('shipping') })).json.status).toBe('failed');

      // Unfiltered: every failed run; filtered by URL (a deep link): the three of payments.
      await page.goto(`${dev.url}/exceptions`);
      await waitFor(async () => (await rowCount()) === 4 || undefined, { timeoutMs: 15_000, what: 'four failed runs in the queue' });
      await page.goto(`${dev.url}/exceptions?kind=failed&workflow=payments`);
      await waitFor(async () => (await rowCount()) === 3 || undefined, { timeoutMs: 15_000, what: 'the three failed payments runs' });
      expect(await page.getByTestId('filter-kind').inputValue()).toBe('failed');
      expect(await page.getByTestId('exception-row').first().getAttribute('data-kind')).toBe('failed');
      await screenshot(page, 'exceptions');

      // One item, resolved with a note.
      await page.getByTestId('exception-row').filter({ hasText: failed[0]?.slice(0, 8) ?? '' }).getByTestId('resolve-one').click();
      await page.getByTestId('resolve-note').fill('refunded by hand');
      await page.getByTestId('confirm').click();
      await waitFor(async () => (await rowCount()) === 2 || undefined, { timeoutMs: 15_000, what: 'the resolved item leaving the open list' });

      // Bulk retry: the two left are retried (and fail again: the step always fails).
      await page.getByTestId('bulk-retry').click();
      expect(await page.locator('dialog[open]').innerText()).toContain('workflow payments');
      await page.getByTestId('confirm').click();
      await page.getByTestId('bulk-result').filter({ hasText: 'Retry: 2 matched, 2 done, 0 skipped' }).waitFor();
      await waitFor(
        async () => {
          const runs = await Promise.all(failed.slice(1).map(async (id) => (await dev.api<{ status: string; steps: { attempts: number }[] }>('GET', `/v1/runs/${id}`)).json));
          return runs.every((r) => r.status === 'failed' && (r.steps[0]?.attempts ?? 0) >= 2) || undefined;
        },
        { timeoutMs: 30_000, what: 'both retried runs failed a second attempt' },
      );

      // Bulk resolve needs a note; then the open list of payments is empty and shipping's item is untouched.
      await waitFor(async () => (await rowCount()) === 2 || undefined, { timeoutMs: 15_000, what: 'the retried runs back in the queue' });
      await page.getByTestId('bulk-resolve').click();
      await page.getByTestId('resolve-note').fill('known outage, runs retried');
      await page.getByTestId('confirm').click();
      await page.getByTestId('bulk-result').filter({ hasText: 'Resolve: 2 matched, 2 done, 0 skipped' }).waitFor();
      await page.getByText('Nothing needs a person for this filter.').waitFor();
      expect((await openExceptions('kind=failed&workflow=payments')).length).toBe(0);
      expect((await openExceptions('kind=failed&workflow=shipping')).length).toBe(1);

      // Resolved items stay in history: shown with their note.
      await page.getByLabel('show resolved').check();
      await waitFor(async () => (await rowCount()) === 3 || undefined, { timeoutMs: 15_000, what: 'three resolved items shown' });
      expect(await page.getByTestId('exceptions').innerText()).toContain('refunded by hand');
      expect(new URL(page.url()).searchParams.get('resolved')).toBe('true');
      watched.expectClean();
    });

    it('shows a dead letter and a queue without a worker with their subject and reason, and resolves the queue', async () => {
      const ghostly = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'ghostly', steps: [{ id: 'only', action: 'transform', queue: 'ghost', with: { expr: '1' } }] };
      const started = await dev.api<{ runId: string }>('POST', '/v1/runs/adhoc', { spec: ghostly });
      expect(started.status).toBe(202);
      const runId = started.json.runId;
      // A step result that breaks its contract, straight on the wire: the scheduler's consumer dead-letters it.
      const nc = await connect({ servers: NATS_URL, name: 'weft-console-poison' });
      try {
        await jetstream(nc).publish(`${dev.prefix}.weft.step.result`, JSON.stringify({ runId, stepId: 'only', garbage: true }));
      } finally {
        await nc.close();
      }
      await waitFor(
        async () => {
          const items = await openExceptions('workflow=ghostly');
          return (items.some((i) => i.id === 'queue:ghost') && items.some((i) => i.kind === 'dead-letter')) || undefined;
        },
        { timeoutMs: 30_000, what: 'queue ghost blocked and the dead letter listed' },
      );

      // The kind filter offers dead-letter; a deep link to it shows the letter's subject and reason.
      await page.goto(`${dev.url}/exceptions?kind=dead-letter&workflow=ghostly`);
      const letter = page.locator('[data-testid=exception-row][data-kind=dead-letter]');
      await letter.waitFor();
      expect(await page.getByTestId('filter-kind').locator('option').evaluateAll((options) => options.map((o) => o.getAttribute('value') ?? ''))).toEqual(['', 'review', 'low-confidence', 'blocked', 'failed', 'dead-letter']);
      expect(await page.getByTestId('filter-kind').inputValue()).toBe('dead-letter');
      expect(await letter.getByTestId('exception-subject').innerText()).toBe('weft.step.result');
      expect(await letter.getByTestId('exception-reason').innerText()).toMatch(/.+ \(\d+ deliveries\)$/);
      expect(await letter.innerText()).toContain('dead-lettered by the bus on delivery');
      await screenshot(page, 'exceptions-dead-letter');
      expect(await letter.getByRole('link', { name: runId.slice(0, 8) }).getAttribute('href')).toBe(`/runs/${runId}?step=only`);

      // The queue: its name as the subject, what waits on it as the reason; resolved with a note.
      await page.goto(`${dev.url}/exceptions?kind=blocked&workflow=ghostly`);
      const queue = page.locator('[data-testid=exception-row][data-id="queue:ghost"]');
      await queue.waitFor();
      expect(await queue.getByTestId('exception-subject').innerText()).toBe('queue ghost');
      expect(await queue.getByTestId('exception-reason').innerText()).toBe('1 dispatched step(s) of 1 run(s), and no live worker serves it');
      expect(await queue.innerText()).toContain('start a worker serving ghost');
      await queue.getByTestId('resolve-one').click();
      expect(await page.locator('dialog[open]').innerText()).toContain('Resolve blocked queue:ghost?');
      await page.getByTestId('resolve-note').fill('worker on its way');
      await page.getByTestId('confirm').click();
      await queue.waitFor({ state: 'detached' });
      expect((await openExceptions('kind=blocked&workflow=ghostly&resolved=true')).find((i) => i.id === 'queue:ghost')?.resolved?.note).toBe('worker on its way');
      watched.expectClean();
    });

    it("backfills a cron trigger's past ticks after a confirmation, and tests it without starting a run", async () => {
      const hourly = { ...small('hourly-export'), triggers: [{ id: 'hourly', cron: '0 * * * *', overlap: 'allow' }] };
      expect((await dev.api('POST', '/v1/workflows', { spec: hourly })).status).toBe(201);
      expect((await dev.api('POST', '/v1/workflows/hourly-export/versions')).status).toBe(201);
      expect((await dev.api('POST', '/v1/workflows/hourly-export/versions/1/publish')).status).toBe(200);
      await page.goto(`${dev.url}/triggers/hourly-export/hourly`);
      await page.getByTestId('backfill').waitFor({ timeout: 30_000 });

      // The test first: the next fires from now, and nothing is fired.
      await page.getByTestId('test-run').click();
      await page.getByTestId('test-result').waitFor();
      expect(await page.getByTestId('test-result').innerText()).toMatch(/passes/);
      expect(await page.getByTestId('test-next-fires').innerText()).toMatch(/^next fires: /);
      await page.getByTestId('fire-log').getByText('No fires yet.').waitFor();

      // Backfill the last three hours (the form's default is the last 24).
      const local = (hoursAgo: number): string => {
        const d = new Date(Date.now() - hoursAgo * 3_600_000);
        d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
        return d.toISOString().slice(0, 16);
      };
      const [fromText, toText] = [local(3), local(0)];
      await page.getByTestId('backfill-from').fill(fromText);
      await page.getByTestId('backfill-to').fill(toText);
      await page.getByTestId('backfill-open').click();
      expect(await page.locator('dialog[open]').innerText()).toContain('Starts a run for every tick');
      await page.locator('dialog[open]').getByTestId('confirm').click();
      const result = await page.getByTestId('backfill-result').innerText();
      const ticks = Number(/^(\d+) ticks?:/.exec(result)?.[1]);
      // Every full hour in [from, to], the form's local times read as the browser reads them (same zone).
      const [from, to] = [Date.parse(fromText), Date.parse(toText)];
      const hours = Array.from({ length: 5 }, (_, i) => Math.ceil(from / 3_600_000) * 3_600_000 + i * 3_600_000).filter((h) => h <= to);
      expect(ticks).toBe(hours.length);
      expect(result).toContain(`${ticks} fired`);
      await waitFor(async () => (await page.getByTestId('fire-row').filter({ hasText: 'fired' }).count()) === ticks || undefined, {
        timeoutMs: 30_000,
        what: 'the backfilled ticks in the fire log',
      });
      await screenshot(page, 'trigger-backfill');
      await page.getByTestId('backfill-result').getByRole('link').first().click();
      await page.waitForURL(/\/runs\/[0-9a-f-]{36}/);
      await page.getByTestId('run-graph').waitFor();
      watched.expectClean();
    });

    it('finds runs by the start of a correlation id or of a run id', async () => {
      const ids: Record<string, string> = {};
      for (const correlationId of ['invoice-2026-001', 'invoice-2026-002', 'receipt-7']) {
        const run = await dev.api<{ runId: string; status: string }>('POST', '/v1/runs/adhoc?mode=sync&wait=30s', { spec: small('billing'), correlationId });
        expect(run.json.status).toBe('completed');
        ids[correlationId] = run.json.runId;
      }
      await page.goto(`${dev.url}/runs`);
      await page.getByTestId('run-row').first().waitFor();
      const shown = async (): Promise<string> => (await page.getByTestId('run-row').allInnerTexts()).join('\n');
      await page.getByTestId('filter-text').fill('invoice-2026');
      await waitFor(async () => ((await page.getByTestId('run-row').count()) === 2 && (await shown()).includes('invoice-2026-001')) || undefined, {
        timeoutMs: 10_000,
        what: 'the two runs whose correlation id starts with invoice-2026',
      });
      expect(new URL(page.url()).searchParams.get('q')).toBe('invoice-2026');
      await screenshot(page, 'runs-prefix');
      const receipt = ids['receipt-7'] ?? '';
      await page.getByTestId('filter-text').fill(receipt.slice(0, 8));
      await waitFor(async () => (await shown()).includes('receipt-7') || undefined, { timeoutMs: 10_000, what: 'the run found by the start of its id' });
      watched.expectClean();
    });

    it("shows a step's input as evaluated, beside its with: as written", async () => {
      const spec = {
        ...small('greeting'),
        inputs: { who: { type: 'string', required: true } },
        steps: [
          { id: 'greet', action: 'transform', with: { expr: "'hello ' + inputs.who" } },
          { id: 'shout', needs: ['greet'], action: 'log', with: { message: '${{ steps.greet.output }}!' } },
        ],
      };
      const run = await dev.api<{ runId: string; status: string }>('POST', '/v1/runs/adhoc?mode=sync&wait=30s', { spec, inputs: { who: 'ann' } });
      expect(run.json.status).toBe('completed');
      await page.goto(`${dev.url}/runs/${run.json.runId}?step=shout&panel=input`);
      const shown = page.getByTestId('step-input');
      await shown.waitFor();
      const text = await shown.innerText();
      expect(text).toContain('"message": "hello ann!"');
      expect(text).toContain('"message": "${{ steps.greet.output }}!"');
      await page.locator('[data-testid=graph-node]').first().waitFor();
      await screenshot(page, 'step-input');
      watched.expectClean();
    });

    it('completes keys and values from the workflow JSON Schema as you type in the draft editor', async () => {
      expect((await dev.api('POST', '/v1/workflows', { spec: small('completion-demo') })).status).toBe(201);
      await page.goto(`${dev.url}/workflows/completion-demo?tab=draft`);
      const editor = page.getByTestId('draft-editor');
      await editor.waitFor();
      await page.getByTestId('validation-state').filter({ hasText: 'valid' }).waitFor();
      await editor.focus();
      await page.keyboard.press('Control+End');
      const items = page.getByTestId('completion-item');

      // A key of a step, typed: the list offers what the schema allows there.
      await page.keyboard.type('\n  - id: extra\n    action: noop\n    re');
      await page.getByTestId('completion').waitFor();
      expect(await items.allInnerTexts()).toEqual([expect.stringMatching(/^retry\b/), expect.stringMatching(/^review\b/)]);
      await screenshot(page, 'draft-completion');
      await page.keyboard.press('Enter');
      expect(await editor.inputValue()).toMatch(/\n {4}retry:\n {6}$/);

      // A value: the enum's members; a click takes one.
      await page.keyboard.type('backoff: ');
      await page.getByTestId('completion').waitFor();
      expect(await items.allInnerTexts()).toEqual([expect.stringMatching(/^fixed\b/), expect.stringMatching(/^exponential\b/)]);
      await items.filter({ hasText: /^exponential/ }).click();
      expect(await editor.inputValue()).toMatch(/\n {6}backoff: exponential$/);

      // Ctrl+Space on an empty line lists the keys not written yet (maxAttempts, not backoff); Escape closes.
      await page.keyboard.type('\n      ');
      await page.keyboard.press('Control+Space');
      await page.getByTestId('completion').waitFor();
      const offered = await items.allInnerTexts();
      expect(offered.some((t) => t.startsWith('maxAttempts'))).toBe(true);
      expect(offered.some((t) => t.startsWith('backoff'))).toBe(false);
      await page.keyboard.press('Escape');
      await page.getByTestId('completion').waitFor({ state: 'detached' });

      // Inside a step's with:, the keys of its action's input schema (the catalog's fail action).
      await page.keyboard.type('\n  - id: flaky\n    action: fail\n    with:\n      co');
      await page.getByTestId('completion').waitFor();
      expect(await items.allInnerTexts()).toEqual([expect.stringMatching(/^code\b/)]);
      await page.keyboard.press('Enter');
      await page.keyboard.type('NOPE\n      ');
      await page.keyboard.press('Control+Space');
      await page.getByTestId('completion').waitFor();
      expect((await items.allInnerTexts()).map((t) => t.split(/\s/)[0])).toEqual(['message', 'retryable', 'untilAttempt']);
      await page.keyboard.press('Escape');
      await page.getByTestId('completion').waitFor({ state: 'detached' });
      expect(await editor.inputValue()).toMatch(/\n {4}with:\n {6}code: NOPE\n {6}$/);
      // What completion wrote is a valid spec.
      const checked = await dev.api<{ valid: boolean; diagnostics: unknown[] }>('POST', '/v1/validate', { source: await editor.inputValue() });
      expect(checked.json).toMatchObject({ valid: true, diagnostics: [] });
      watched.expectClean();
    });
  },
);
