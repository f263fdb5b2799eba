import { checkCondition, checkTemplate } from './check.util';
import { ExpressionBudgetError } from './budget';
import { renderTriggerValue } from './evaluate';

describe('the trigger dialect', () => {
  const event = { data: { total: 150, id: 'o-1' }, headers: { 'x-github-event': 'push' } };

  it('renders trigger variables (event, trigger, item, response, cursor)', () => {
    expect(
      renderTriggerValue(
        { ok: '${{ event.data.total > 100 }}', id: '${{ event.data.id }}', url: 'https://x.test/?since=${{ cursor }}', at: '${{ trigger.scheduledAt }}' },
        { event, cursor: 'c-9', trigger: { scheduledAt: '2026-01-01T00:00:00.000Z' } },
      ),
    ).toEqual({ ok: true, id: 'o-1', url: 'https://x.test/?since=c-9', at: '2026-01-01T00:00:00.000Z' });
  });

  it('checks against its own variables, and workflows keep theirs', () => {
    expect(checkCondition("${{ event.headers['x-github-event'] == 'push' }}", undefined, 'trigger').problems).toEqual([]);
    expect(checkTemplate('${{ steps.a.output }}', undefined, 'trigger').problems[0]?.message).toContain('Unknown variable: steps');
    expect(checkTemplate('${{ event.data }}').problems[0]?.message).toContain('Unknown variable: event');
  });

  it('is bounded by the expression budget', () => {
    const items = Array.from({ length: 2000 }, (_, i) => i);
    expect(() => renderTriggerValue('${{ response.body.items.map(a, response.body.items.map(b, a * b)) }}', { response: { body: { items } } })).toThrow(ExpressionBudgetError);
  });
});
