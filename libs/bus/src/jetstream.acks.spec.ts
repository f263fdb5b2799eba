import { type JsMsg } from '@nats-io/jetstream';
import { HeldAcks } from './jetstream.acks';

function fakeMsg(log: number[], n: number, fails = false): JsMsg {
  return {
    ack: () => {
      if (fails) throw new Error('connection closed');
      log.push(n);
    },
  } as unknown as JsMsg;
}

describe('HeldAcks', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('holds acks until flush(), then sends them in order', () => {
    const sent: number[] = [];
    const acks = new HeldAcks(20);
    acks.ack(fakeMsg(sent, 1));
    acks.ack(fakeMsg(sent, 2));
    expect(sent).toEqual([]);
    expect(acks.size).toBe(2);
    acks.flush();
    expect(sent).toEqual([1, 2]);
    expect(acks.size).toBe(0);
    jest.advanceTimersByTime(100);
    expect(sent).toEqual([1, 2]);
  });

  it('sends them after maxDelayMs when nothing flushes', () => {
    const sent: number[] = [];
    const acks = new HeldAcks(20);
    acks.ack(fakeMsg(sent, 1));
    jest.advanceTimersByTime(10);
    acks.ack(fakeMsg(sent, 2));
    jest.advanceTimersByTime(9);
    expect(sent).toEqual([]);
    // Counted from the first held ack: none waits longer than maxDelayMs.
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([1, 2]);
  });

  it('sends at once with maxDelayMs 0, and once 256 are held', () => {
    const sent: number[] = [];
    new HeldAcks(0).ack(fakeMsg(sent, 0));
    expect(sent).toEqual([0]);
    const acks = new HeldAcks(20);
    for (let i = 1; i <= 255; i++) acks.ack(fakeMsg(sent, i));
    expect(sent).toHaveLength(1);
    acks.ack(fakeMsg(sent, 256));
    expect(sent).toHaveLength(257);
  });

  it('goes on past an ack the closed connection refuses (the broker redelivers that message)', () => {
    const sent: number[] = [];
    const acks = new HeldAcks(20);
    acks.ack(fakeMsg(sent, 1, true));
    acks.ack(fakeMsg(sent, 2));
    expect(() => acks.flush()).not.toThrow();
    expect(sent).toEqual([2]);
  });
});
