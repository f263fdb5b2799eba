import { withOutputLinks } from './checkpoint-links.util';
import type { Checkpoint } from './journal.types';

const ref = { $weftBlob: 'a'.repeat(64), size: 300_000 };
const base: Checkpoint = { runId: 'r 1', workflow: 'w', version: '1', stepId: 'big', attempt: 1, eventId: 'e', at: '2026-01-01T00:00:00.000Z', output: ref, state: { small: { n: 1 }, big: ref } };

describe('withOutputLinks (issue 12 item 4)', () => {
  it("adds where to fetch each output stored by reference, in the output and in the state, and keeps the rest", () => {
    const linked = withOutputLinks(base);
    const href = '/v1/runs/r%201/steps/big/output';
    expect(linked.output).toEqual({ ...ref, href });
    expect(linked.state).toEqual({ small: { n: 1 }, big: { ...ref, href } });
  });

  it('returns a checkpoint without references as it is', () => {
    const inline: Checkpoint = { ...base, output: { n: 2 }, state: { small: { n: 1 }, big: { n: 2 } } };
    expect(withOutputLinks(inline)).toBe(inline);
  });
});
