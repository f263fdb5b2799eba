import { evaluateOccurrence, extractPollPage, MAX_ITEMS_PER_POLL, renderPollUrl, TriggerExpressionError } from './trigger-expr.util';

describe('evaluateOccurrence', () => {
  const event = { data: { total: 150, id: 'o-1' } };
  const exprs = { filter: '${{ event.data.total > 100 }}', dedupe: '${{ event.data.id }}', inputs: { orderId: '${{ event.data.id }}', fixed: 1 } };

  it('passes, keys and maps an event', () => {
    expect(evaluateOccurrence(exprs, { event })).toEqual({ passed: true, dedupeKey: 'o-1', inputs: { orderId: 'o-1', fixed: 1 } });
  });
  it('filters', () => {
    expect(evaluateOccurrence(exprs, { event: { data: { total: 5, id: 'o-2' } } })).toEqual({ passed: false });
  });
  it('without expressions passes with no inputs', () => {
    expect(evaluateOccurrence({}, { event })).toEqual({ passed: true, dedupeKey: undefined, inputs: {} });
  });
  it('a number key becomes a string', () => {
    expect(evaluateOccurrence({ dedupe: '${{ event.n }}' }, { event: { n: 42 } })).toMatchObject({ dedupeKey: '42' });
  });
  it.each([
    [{ filter: '${{ event.data.id }}' }, 'filter must be a bool'],
    [{ dedupe: '${{ event.data }}' }, 'dedupe must be a non-empty string'],
    [{ filter: '${{ event.missing.x > 1 }}' }, 'filter:'],
    [{ inputs: { a: '${{ event.data.nope }}' } }, 'inputs:'],
  ])('a broken expression is a TriggerExpressionError (%j)', (bad, message) => {
    expect(() => evaluateOccurrence(bad, { event })).toThrow(TriggerExpressionError);
    expect(() => evaluateOccurrence(bad, { event })).toThrow(message);
  });
});

describe('extractPollPage', () => {
  const exprs = { items: '${{ response.body.items }}', key: '${{ item.id }}', cursor: '${{ response.body.next }}' };
  it('reads items, keys and the next cursor', () => {
    const response = { status: 200, headers: {}, body: { items: [{ id: 1 }, { id: 'b' }], next: 'n2' } };
    expect(extractPollPage(exprs, response, 'n1')).toEqual({ items: [{ key: '1', item: { id: 1 } }, { key: 'b', item: { id: 'b' } }], cursor: 'n2' });
  });
  it('a null cursor keeps the current one', () => {
    expect(extractPollPage(exprs, { body: { items: [], next: null } }, 'n1').cursor).toBeUndefined();
  });
  it('refuses a non-list and an oversized page', () => {
    expect(() => extractPollPage(exprs, { body: { items: {}, next: 'x' } }, undefined)).toThrow('items must be a list');
    const items = Array.from({ length: MAX_ITEMS_PER_POLL + 1 }, (_, id) => ({ id }));
    expect(() => extractPollPage(exprs, { body: { items } }, undefined)).toThrow('at most');
  });
  it('renders the URL with the cursor (empty before the first page)', () => {
    expect(renderPollUrl('https://api.test/t?since=${{ cursor }}', 'abc')).toBe('https://api.test/t?since=abc');
    expect(renderPollUrl('https://api.test/t?since=${{ cursor }}', undefined)).toBe('https://api.test/t?since=');
  });
});
