import { describeWhenReachable } from '@weft/db/testing';
import type { Browser, Page } from 'playwright-core';
import { waitFor } from '../distributed/support/wait.util';
import { buildConsole, consoleNeeds, type Dev, launchChromium, screenshot, startDev, watchedPage, type WatchedPage } from './console.harness';

// The web console in a real Chromium against `weft dev` on NATS and PostgreSQL: a user
// starts a run from the generated form, watches it complete in the graph, opens a failed
// step's error, publishes a fixed version and re-runs from that step, and lands on the new
// run linked to the old one. Any console error, uncaught exception or 5xx fails the test.

const demo = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'console-demo',
  description: 'Greets someone, naps, and reports',
  inputs: {
    who: { type: 'string', required: true, description: 'Whom to greet' },
    times: { type: 'integer', default: 2 },
    loud: { type: 'boolean', default: false },
  },
  steps: [
    { id: 'greet', action: 'transform', with: { expr: "'hello ' + inputs.who" } },
    { id: 'count', needs: ['greet'], action: 'transform', with: { expr: 'inputs.times * 2' } },
    { id: 'nap', needs: ['greet'], action: 'sleep', with: { duration: '3s' } },
    { id: 'report', needs: ['count', 'nap'], action: 'log', with: { message: '${{ steps.greet.output }} x${{ steps.count.output }}' } },
  ],
  outputs: { greeting: '${{ steps.greet.output }}', doubled: '${{ steps.count.output }}' },
};

const report = (fixed: boolean) => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'nightly-report',
  inputs: { region: { type: 'string', default: 'eu' } },
  steps: [
    { id: 'extract', action: 'transform', with: { expr: "{'rows': 42, 'region': inputs.region}" } },
    { id: 'enrich', needs: ['extract'], action: 'noop' },
    fixed
      ? { id: 'upload', needs: ['extract'], action: 'log', with: { message: 'uploaded to s3://reports/${{ inputs.region }}' } }
      : {
          id: 'upload',
          needs: ['extract'],
          action: 'fail',
          retry: { maxAttempts: 2, backoff: 'fixed', initialInterval: '200ms' },
          with: { code: 'S3_DENIED', message: 'access denied writing s3://reports/${{ inputs.region }}' },
        },
    { id: 'notify', needs: ['enrich', 'upload'], action: 'log', with: { message: 'report ready' } },
  ],
});

interface RunJson {
  runId: string;
  status: string;
  inputs: Record<string, unknown>;
  rerunOf: { runId: string; fromStep: string | null } | null;
  steps: { id: string; status: string; reusedFrom: string | null }[];
}

// The journal follows the scheduler's events asynchronously: a run's history can be a 404 for
// the first moments of a run, which the page shows as "no entries yet" and asks again.
const JOURNAL_NOT_YET = /status of 404 .*\/v1\/runs\/[^/]+\/history/;

jest.setTimeout(240_000);

describeWhenReachable(
  'web console in Chromium against weft dev (NATS + PostgreSQL)',
  consoleNeeds(),
  () => {
    let dev: Dev;
    let browser: Browser;
    let watched: WatchedPage;
    let page: Page;

    beforeAll(async () => {
      await buildConsole();
      [dev, browser] = await Promise.all([startDev(), launchChromium()]);
      for (const spec of [demo, report(false)]) {
        expect((await dev.api('POST', '/v1/workflows', { spec })).status).toBe(201);
        expect((await dev.api('POST', `/v1/workflows/${spec.name}/versions`)).status).toBe(201);
        expect((await dev.api('POST', `/v1/workflows/${spec.name}/versions/1/publish`)).status).toBe(200);
      }
    }, 180_000);

    beforeEach(async () => {
      watched = await watchedPage(browser, { allow: [JOURNAL_NOT_YET] });
      page = watched.page;
    });
    afterEach(async () => {
      await page?.context().close();
    });
    afterAll(async () => {
      await browser?.close();
      await dev?.close();
    });

    const runIdOf = (p: Page): string => /\/runs\/([0-9a-f-]{36})/.exec(p.url())?.[1] ?? '';
    const graphStatuses = async (p: Page): Promise<string[]> =>
      p.locator('[data-testid=graph-node]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-status') ?? ''));

    it('serves the console at / and deep links, with no CDN: every script and style comes from weft dev', async () => {
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const res = await page.goto(`${dev.url}/runs?status=failed`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      expect(requests.filter((u) => !u.startsWith(dev.url) && !u.startsWith('data:'))).toEqual([]);
      await page.goto(dev.url);
      await page.waitForURL(/\/runs$/);
      watched.expectClean();
    });

    it('starts a run from the form generated from inputs:, and watches it complete live in the graph', async () => {
      await page.goto(`${dev.url}/workflows`);
      await page.getByTestId('workflow-row').filter({ hasText: 'console-demo' }).getByRole('link', { name: 'Start a run' }).click();
      await page.getByTestId('start-form').waitFor();
      await page.getByLabel(/^who/).fill('Ada');
      await page.getByLabel(/^times/).fill('21');
      await page.getByLabel('loud').check();
      await page.getByTestId('start-run').click();
      await page.waitForURL(/\/runs\/[0-9a-f-]{36}/);
      const runId = runIdOf(page);
      // Live: the page follows the run's stream while the nap (3 s) is unfinished, then shows every node completed, without a reload.
      await page.getByTestId('run-graph').waitFor();
      await page.getByTestId('live').waitFor();
      await waitFor(async () => (await graphStatuses(page)).some((s) => s !== 'completed'), { timeoutMs: 2_000, what: 'an unfinished step in the graph' });
      await screenshot(page, 'run-live');
      await waitFor(async () => ((await graphStatuses(page)).length === 4 && (await graphStatuses(page)).every((s) => s === 'completed')) || undefined, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'every node completed',
      });
      await page.locator('.run-header [data-status=completed]').waitFor();
      const run = (await dev.api<RunJson>('GET', `/v1/runs/${runId}`)).json;
      expect(run.status).toBe('completed');
      expect(run.inputs).toEqual({ who: 'Ada', times: 21, loud: true });
      await page.getByRole('tab', { name: 'Inputs & outputs' }).click();
      await page.getByText('"doubled": 42').waitFor();
      watched.expectClean();
    });

    it('opens a failed step, shows its error, re-runs from it on a newer published version, and links the new run to the old', async () => {
      const started = await dev.api<{ runId: string }>('POST', '/v1/workflows/nightly-report/runs?mode=sync&wait=30s', { inputs: { region: 'us' } });
      expect(started.status).toBe(200);
      const failedId = started.json.runId;

      await page.goto(`${dev.url}/runs?status=failed`);
      await page.locator(`a[href="/runs/${failedId}"]`).click();
      await page.waitForURL(new RegExp(`/runs/${failedId}`));
      await page.getByTestId('run-error').waitFor();
      await page.locator('[data-testid=graph-node][data-status=failed]').click();
      await page.getByTestId('step-error').waitFor();
      expect(await page.getByTestId('step-error').innerText()).toContain('access denied writing s3://reports/us');
      expect(await page.getByTestId('step-error').innerText()).toContain('S3_DENIED');
      await page.getByRole('tab', { name: 'attempts' }).click();
      await page.getByRole('cell', { name: '2', exact: true }).waitFor();
      await page.getByRole('tab', { name: 'error ●' }).click();
      await screenshot(page, 'run-failed-step');

      // The fix is a new version, published from the console.
      await dev.api('PATCH', '/v1/workflows/nightly-report/draft', { spec: report(true) });
      expect((await dev.api('POST', '/v1/workflows/nightly-report/versions')).status).toBe(201);
      await page.goto(`${dev.url}/workflows/nightly-report`);
      await page.getByTestId('version-row').filter({ hasText: 'v2' }).getByRole('button', { name: 'Publish' }).click();
      await page.getByTestId('confirm').click();
      await page.getByTestId('version-row').filter({ hasText: 'v2' }).getByText('published').waitFor();
      await page.goto(`${dev.url}/workflows/nightly-report?tab=diff&a=1&b=2`);
      await page.locator('.diff-row.changed').first().waitFor();
      await screenshot(page, 'workflow-diff');

      await page.goto(`${dev.url}/runs/${failedId}?step=upload`);
      await page.getByRole('button', { name: 'Re-run from upload' }).click();
      await page.getByTestId('confirm-dialog').getByRole('combobox').selectOption('published');
      await page.getByTestId('confirm').click();
      await page.waitForURL((url) => /\/runs\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(failedId));
      const rerunId = runIdOf(page);
      await page.getByTestId('rerun-of').waitFor();
      expect(await page.getByTestId('rerun-of').innerText()).toContain(`re-run of ${failedId.slice(0, 8)} from step upload`);
      await waitFor(async () => (await graphStatuses(page)).every((s) => s === 'completed') && (await graphStatuses(page)).length === 4, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'the re-run completed in the graph',
      });
      const rerun = (await dev.api<RunJson>('GET', `/v1/runs/${rerunId}`)).json;
      expect(rerun.rerunOf).toEqual({ runId: failedId, fromStep: 'upload' });
      expect(rerun.steps.find((s) => s.id === 'extract')?.reusedFrom).toBe(failedId);
      // The link goes back to the failed run.
      await page.getByTestId('rerun-of').getByRole('link').click();
      await page.waitForURL(new RegExp(`/runs/${failedId}$`));
      await page.getByTestId('run-error').waitFor();
      // …which links forward to its re-run (GET /v1/runs/{id} answers reruns).
      await page.getByTestId('rerun-link').filter({ hasText: rerunId.slice(0, 8) }).click();
      await page.waitForURL(new RegExp(`/runs/${rerunId}$`));
      watched.expectClean();
    });

    it('decides a review from the inbox: the form from its JSON Schema corrects the held output, and the run goes on with it', async () => {
      const spec = {
        apiVersion: 'weft/v1',
        kind: 'Workflow',
        name: 'invoice',
        steps: [
          {
            id: 'extract',
            action: 'transform',
            with: { expr: "{'number': 'INV-7', 'total': 90.5}" },
            review: {
              title: 'Check invoice ${{ output.number }}',
              instructions: 'Compare the total with the PDF; correct it if it is wrong.',
              assignees: ['finance'],
              form: { type: 'object', required: ['number', 'total'], properties: { number: { type: 'string' }, total: { type: 'number', minimum: 0 } } },
            },
          },
          { id: 'post', needs: ['extract'], action: 'transform', with: { expr: 'steps.extract.output.total' } },
        ],
      };
      const started = await dev.api<{ runId: string }>('POST', '/v1/runs/adhoc', { spec });
      expect(started.status).toBe(202);
      await page.goto(`${dev.url}/reviews`);
      await page.getByTestId('review-row').filter({ hasText: 'Check invoice INV-7' }).getByRole('link').click();
      await page.getByTestId('review-detail').getByText('Compare the total with the PDF').waitFor();
      await page.getByTestId('review-field-total').fill('99');
      await screenshot(page, 'review');
      await page.getByTestId('decide-correct').click();
      await page.getByTestId('confirm').click();
      await page.getByTestId('review-detail').locator('[data-status=correct]').waitFor();
      const done = await waitFor(
        async () => {
          const run = (await dev.api<Omit<RunJson, 'steps'> & { steps: { id: string; output: unknown }[] }>('GET', `/v1/runs/${started.json.runId}`)).json;
          return run.status === 'completed' ? run : undefined;
        },
        { timeoutMs: 30_000, what: 'the reviewed run completed' },
      );
      expect(done.steps.find((s) => s.id === 'post')?.output).toBe(99);
      watched.expectClean();
    });

    it('lists a published cron trigger with its next fire, fires it now, and shows the fire in its log with the run', async () => {
      const nightly = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'nightly-export', triggers: [{ id: 'nightly', cron: '0 2 * * *' }], steps: [{ id: 'export', action: 'noop' }] };
      expect((await dev.api('POST', '/v1/workflows', { spec: nightly })).status).toBe(201);
      expect((await dev.api('POST', '/v1/workflows/nightly-export/versions')).status).toBe(201);
      expect((await dev.api('POST', '/v1/workflows/nightly-export/versions/1/publish')).status).toBe(200);
      await page.goto(`${dev.url}/triggers`);
      const row = page.getByTestId('trigger-row').filter({ hasText: 'nightly-export / nightly' });
      await row.waitFor({ timeout: 30_000 });
      expect(await row.innerText()).toMatch(/cron/);
      await row.getByRole('link').click();
      await page.getByTestId('fire-log').getByText('No fires yet.').waitFor();
      await row.getByTestId('fire-now').click();
      await page.getByTestId('confirm').click();
      const fired = page.getByTestId('fire-row').filter({ hasText: 'fired' });
      await fired.waitFor({ timeout: 30_000 });
      await screenshot(page, 'triggers');
      await fired.getByRole('link').click();
      await page.waitForURL(/\/runs\/[0-9a-f-]{36}/);
      await page.getByTestId('run-graph').waitFor();
      watched.expectClean();
    });

    it('validates the draft as you type, with problems at line and column', async () => {
      await page.goto(`${dev.url}/workflows/console-demo?tab=draft`);
      const editor = page.getByTestId('draft-editor');
      await editor.waitFor();
      await page.getByTestId('validation-state').filter({ hasText: 'valid' }).waitFor();
      const text = await editor.inputValue();
      await editor.fill(text.replace('- count', '- cuont'));
      await page.getByTestId('diagnostics').getByText('UNKNOWN_NEED').waitFor();
      const problem = await page.getByTestId('diagnostics').locator('li').filter({ hasText: 'UNKNOWN_NEED' }).innerText();
      expect(problem).toMatch(/^\d+:\d+ unknown step "cuont"/);
      await screenshot(page, 'draft-editor');
      // Completion from the catalog: an action's step with the keys of its input schema.
      await page.getByText('Insert a step…').click();
      await page.getByTestId('insert-action').filter({ hasText: /^fail$/ }).click();
      expect(await editor.inputValue()).toMatch(/- id: fail\n\s+action: fail\n\s+with:\n(.*\n)*\s+untilAttempt: 0/);
      watched.expectClean();
    });

    it('shows runs and insights in both themes, and a problem+json error as a message', async () => {
      await page.goto(`${dev.url}/runs`);
      await page.getByTestId('run-row').first().waitFor();
      await screenshot(page, 'runs');
      // A review rejected through the API: the insights page's Reviews table counts it.
      const gated = {
        apiVersion: 'weft/v1',
        kind: 'Workflow',
        name: 'gated-export',
        steps: [{ id: 'approve', action: 'transform', with: { expr: "'batch-1'" }, review: { title: 'Approve the export' } }],
      };
      expect((await dev.api('POST', '/v1/runs/adhoc', { spec: gated })).status).toBe(202);
      const review = await waitFor(
        async () => (await dev.api<{ items: { id: string }[] }>('GET', '/v1/reviews?status=open&workflow=gated-export')).json.items[0],
        { timeoutMs: 30_000, what: 'the gated-export review opened' },
      );
      expect((await dev.api('POST', `/v1/reviews/${review.id}/decision`, { decision: 'reject', comment: 'not today' })).status).toBe(200);
      await waitFor(
        async () => (await dev.api<{ reviews: { workflow: string }[] }>('GET', '/v1/insights/reviews?since=24h&workflow=gated-export')).json.reviews[0],
        { timeoutMs: 30_000, what: 'analytics counted the decision' },
      );
      await page.goto(`${dev.url}/insights?since=24h`);
      await page.getByTestId('hotspots').getByText('upload').waitFor();
      const reviewed = page.getByTestId('review-insight-row').filter({ hasText: 'gated-export / approve' });
      await reviewed.waitFor();
      // Step, decided, rejected, reject rate, avg, p50, p95 (a time to decision, never a dash).
      const cells = await reviewed.locator('td').allInnerTexts();
      expect(cells.slice(0, 4).map((c) => c.trim())).toEqual(['gated-export / approve', '1', '1', '100.0 %']);
      for (const time of cells.slice(4)) expect(time).toMatch(/^\d+(\.\d+)? (ms|s)$|^\d+ m \d+ s$/);
      await screenshot(page, 'insights');
      await page.getByTestId('theme-toggle').click();
      expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
      await page.goto(`${dev.url}/runs`);
      await page.getByTestId('run-row').first().waitFor();
      await screenshot(page, 'runs-dark');
      watched.expectClean();

      // A run that does not exist: the API's problem+json, shown as a message (the 404 load is expected here).
      const missing = await watchedPage(browser, { allow: [/status of 404/] });
      await missing.page.goto(`${dev.url}/runs/00000000-0000-4000-8000-000000000000`);
      await missing.page.getByTestId('problem').waitFor();
      expect(await missing.page.getByTestId('problem').innerText()).toContain('RUN_NOT_FOUND');
      missing.expectClean();
      await missing.page.context().close();
    });

    it('is keyboard navigable: the main nav, a run row and the re-run dialog work without a mouse', async () => {
      expect((await dev.api<{ status: string }>('POST', '/v1/runs/adhoc?mode=sync&wait=30s', { spec: report(false) })).json.status).toBe('failed');
      await page.goto(`${dev.url}/runs`);
      await page.getByTestId('run-row').first().waitFor();
      await page.keyboard.press('Tab'); // skip link
      await page.keyboard.press('Tab'); // brand
      await page.keyboard.press('Tab'); // Runs
      await page.keyboard.press('Tab'); // Workflows
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/workflows$/);
      await page.goto(`${dev.url}/runs?status=failed`);
      await page.getByTestId('run-row').first().getByRole('link').focus();
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/runs\/[0-9a-f-]{36}/);
      // A graph node takes focus and opens with Enter.
      await page.locator('.react-flow__node').filter({ has: page.locator('[data-status=failed]') }).focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('step-error').waitFor();
      await page.getByTestId('rerun-button').focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('confirm-dialog').waitFor();
      await page.keyboard.press('Escape');
      await waitFor(async () => !(await page.getByTestId('confirm-dialog').isVisible()), { timeoutMs: 5_000, what: 'the dialog closed by Escape' });
      watched.expectClean();
    });
  },
);

describeWhenReachable(
  'web console asks for an API key when weft dev wants one',
  consoleNeeds(),
  () => {
    let dev: Dev;
    let browser: Browser;

    beforeAll(async () => {
      await buildConsole();
      // Bound to every address, weft dev takes no request without a key.
      [dev, browser] = await Promise.all([startDev({ host: '0.0.0.0' }), launchChromium()]);
    }, 180_000);
    afterAll(async () => {
      await browser?.close();
      await dev?.close();
    });

    it('prompts on 401, keeps the key in session storage only, and sends it as a bearer header, never in a URL', async () => {
      const key = dev.key();
      // The first answers are the 401s that open the prompt: expected here, nothing else is.
      const watched = await watchedPage(browser, { allow: [/status of 401/] });
      const { page } = watched;
      const urls: string[] = [];
      const bearer: string[] = [];
      page.on('request', (r) => {
        urls.push(r.url());
        if (r.url().includes('/v1/')) bearer.push(r.headers().authorization ?? '');
      });
      await page.goto(`${dev.url}/runs`);
      await page.getByTestId('key-prompt').waitFor();
      await screenshot(page, 'api-key-prompt');
      await page.getByRole('textbox', { name: 'API key' }).fill(key);
      await page.getByRole('button', { name: 'Use key' }).click();
      await page.getByText('No runs match.').waitFor();
      expect(await page.evaluate("sessionStorage.getItem('weft.apiKey')")).toBe(key);
      expect(await page.evaluate("localStorage.getItem('weft.apiKey')")).toBeNull();
      expect(urls.filter((u) => u.includes(key))).toEqual([]);
      expect(bearer).toContain(`Bearer ${key}`);
      expect(await page.getByTestId('problem').count()).toBe(0);
      // Following a run's stream works with the key too (fetch-based SSE carries the header).
      const started = await fetch(`${dev.url}/v1/runs/adhoc`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ spec: { apiVersion: 'weft/v1', kind: 'Workflow', name: 'keyed', steps: [{ id: 'nap', action: 'sleep', with: { duration: '6s' } }, { id: 'after', needs: ['nap'], action: 'noop' }] } }),
      });
      const { runId } = (await started.json()) as { runId: string };
      const streams: string[] = [];
      page.on('response', (r) => r.url().endsWith('/stream') && streams.push(`${r.status()} ${r.headers()['content-type']}`));
      page.on('requestfailed', (r) => streams.push(`failed ${r.url()} ${r.failure()?.errorText}`));
      await page.goto(`${dev.url}/runs/${runId}`);
      await page.getByTestId('live').waitFor({ timeout: 5_000 }).catch(async (error: unknown) => {
        throw new Error(`no live stream: ${String(error)}; streams: ${streams.join(', ')}; page problems: ${watched.problems.join('; ')}; page says: ${await page.locator('main').innerText()}`);
      });
      await page.locator('.run-header [data-status=completed]').waitFor({ timeout: 30_000 });
      watched.expectClean();
      await page.context().close();
    });
  },
);
