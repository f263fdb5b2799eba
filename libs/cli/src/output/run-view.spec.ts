import type { LifecycleEvent } from '@weft/contracts';
import type { RunState, WorkflowSpec } from '@weft/core';
import { createRunView, fit } from './run-view';

// The live view's lines (the pseudo-terminal spec checks what stays on the screen).

const spec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'flow', steps: [{ id: 'fetch', action: 'http' }, { id: 'store', action: 'log', needs: ['fetch'] }] } as unknown as WorkflowSpec;
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

function liveView() {
  const written: string[] = [];
  const io = { isTTY: true, out: (l: string) => void written.push(`${l}\n`), err: (l: string) => void written.push(`ERR ${l}\n`), write: (t: string) => void written.push(t) };
  const view = createRunView(spec, io, { live: true, screen: { rows: () => 24, columns: () => 80 } });
  return { view, text: () => plain(written.join('')), written };
}

const event = (fields: Partial<LifecycleEvent>): LifecycleEvent =>
  ({ eventId: 'e', runId: 'r1', workflow: 'flow', version: '1', status: 'running', at: new Date().toISOString(), ...fields }) as LifecycleEvent;

describe('the live view', () => {
  it('a retry is a line with the error that caused it and the delay', () => {
    const { view, text } = liveView();
    view.onEvent(event({ type: 'step.retrying', stepId: 'fetch', status: 'retrying', attempt: 1, error: { code: 'HTTP_503', message: 'Service Unavailable' }, data: { delayMs: 100 } }));
    expect(text()).toContain('fetch attempt 1 failed: HTTP_503 Service Unavailable; retrying in 100ms\n');
    view.finish({ status: 'completed', steps: {}, startedAt: 0, finishedAt: 1 } as unknown as RunState);
  });

  it('a message goes above the table: the table is erased first and drawn again after it', () => {
    const { view, written } = liveView();
    view.join({ steps: {} } as unknown as RunState); // a first frame on the screen
    view.message('canceling the run (Ctrl-C again to quit at once)…');
    const at = written.findIndex((w) => w.startsWith('ERR canceling'));
    expect(written[at - 1]).toMatch(/\x1b\[\d+A\r\x1b\[0J$/);
    expect(plain(written[at + 1] ?? '')).toMatch(/^flow /);
    view.finish({ status: 'canceled', steps: {}, startedAt: 0, finishedAt: 1 } as unknown as RunState);
  });

  it('joining a run in progress shows its steps as they are and the time since it started', () => {
    const { view, text } = liveView();
    const now = Date.now();
    view.join({
      startedAt: now - 65_000,
      steps: {
        fetch: { id: 'fetch', status: 'completed', attempt: 2, startedAt: now - 64_000, finishedAt: now - 60_000, attempts: [{ startedAt: now - 64_000 }] },
        store: { id: 'store', status: 'running', attempt: 1, startedAt: now - 5_000, attempts: [] },
      },
    } as unknown as RunState);
    const frame = text().split('flow ').pop() ?? '';
    expect(frame).toMatch(/^1m0[56]s/);
    expect(frame).toMatch(/fetch\s+completed\s+4\.00s attempt 2/);
    expect(frame).toMatch(/store\s+running\s+5\.\d\ds/);
    view.finish({ status: 'completed', steps: {}, startedAt: now - 65_000, finishedAt: now } as unknown as RunState);
  });

  it('reviews, escalations and decisions are lines above the table, with who decided; a wait is the step\'s row', () => {
    const { view, text } = liveView();
    view.onEvent(event({ type: 'step.waiting', stepId: 'fetch', status: 'waiting', attempt: 1, data: { wait: 'event', event: 'paid', key: 'o-1' } }));
    view.onEvent(event({ type: 'step.waiting', stepId: 'call', status: 'waiting', attempt: 0, data: { wait: 'rate', key: 'acme', limit: 10, periodMs: 60000 } }));
    view.onEvent(event({ type: 'review.requested', stepId: 'store', status: 'waiting', attempt: 1, data: { reviewId: 'rv1', title: 'Check it', tier: 0, assignees: ['finance'], escalated: false } }));
    view.onEvent(event({ type: 'review.requested', stepId: 'store', status: 'waiting', attempt: 1, data: { reviewId: 'rv1', tier: 1, assignees: ['leads'], escalated: true, actor: { keyId: 'k1', name: 'ops' }, comment: 'need a lead' } }));
    view.onEvent(event({ type: 'review.decided', stepId: 'store', status: 'waiting', attempt: 1, data: { reviewId: 'rv1', decision: 'reject', actor: { keyId: 'k2', name: 'alice' }, comment: 'wrong total' } }));
    view.onEvent(event({ type: 'review.decided', stepId: 'fetch', status: 'waiting', attempt: 1, data: { reviewId: 'rv2', decision: 'continue', actor: 'local' } }));
    const shown = text();
    // A wait is the step's row in the table (a line each would stay on the screen); the plain view prints it.
    expect(shown).not.toContain('fetch waiting: for signal paid\n');
    expect(shown).toMatch(/fetch\s+waiting/);
    expect(shown).toContain('store waiting for review rv1: Check it\n');
    expect(shown).toContain('store review escalated to tier 1 (leads) by ops (k1): need a lead\n');
    expect(shown).toContain('store review decided: reject by alice (k2): wrong total\n');
    expect(shown).toContain('fetch review decided: continue by local\n');
    view.finish({ status: 'failed', steps: {}, startedAt: 0, finishedAt: 1 } as unknown as RunState);
  });

  it('the plain view says what each waiting step waits for', () => {
    const lines: string[] = [];
    const io = { isTTY: false, out: (l: string) => void lines.push(plain(l)), err: (l: string) => void lines.push(plain(l)), write: (t: string) => void lines.push(plain(t)) };
    const view = createRunView(spec, io);
    view.onEvent(event({ type: 'step.waiting', stepId: 'fetch', status: 'waiting', attempt: 1, data: { wait: 'event', event: 'paid', key: 'o-1' } }));
    view.onEvent(event({ type: 'step.waiting', stepId: 'call', status: 'waiting', attempt: 0, data: { wait: 'rate', key: 'acme', limit: 10, periodMs: 60000 } }));
    view.finish({ status: 'completed', steps: {}, startedAt: 0, finishedAt: 1 } as unknown as RunState);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/fetch waiting: for signal paid$/), expect.stringMatching(/call waiting: for a rate-limit permit of key "acme" \(10 per 60000ms\)$/)]));
  });

  it('the final header is the run\'s duration', () => {
    const { view, text } = liveView();
    view.finish({ status: 'completed', steps: {}, startedAt: 1_000, finishedAt: 4_500 } as unknown as RunState);
    expect(text().split('flow ').pop()).toMatch(/^3\.50s\n/);
  });

  it('a step\'s log lines wait for its started line (the handler runs before the event arrives)', () => {
    const lines: string[] = [];
    const io = { isTTY: false, out: (l: string) => void lines.push(plain(l)), err: (l: string) => void lines.push(plain(l)), write: (t: string) => void lines.push(plain(t)) };
    const view = createRunView(spec, io);
    view.logger.info('fetching', { stepId: 'fetch' });
    view.logger.info('not a step');
    view.onEvent(event({ type: 'step.started', stepId: 'fetch', attempt: 1 }));
    view.logger.info('fetched', { stepId: 'fetch' });
    view.logger.info('held to the end', { stepId: 'store' });
    view.finish({ status: 'completed', steps: {}, startedAt: 0, finishedAt: 1 } as unknown as RunState);
    expect(lines.slice(0, 5).map((l) => l.replace(/^\S+ /, ''))).toEqual(['  not a step', '▶ fetch started', '  [fetch] fetching', '  [fetch] fetched', '  [store] held to the end']);
  });

  it('fit cuts a line below the width, colour codes kept and not counted', () => {
    const line = `\x1b[1m${'x'.repeat(100)}\x1b[22m`;
    expect(plain(fit(line, 40))).toHaveLength(39);
    expect(fit('short', 40)).toBe('short');
  });
});
