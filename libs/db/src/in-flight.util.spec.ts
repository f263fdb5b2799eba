import { InFlight } from './in-flight.util';

describe('InFlight', () => {
  it('waits for running calls on close and refuses new ones with the store\'s error', async () => {
    const calls = new InFlight(() => new Error('the shelf is closed'));
    let finish = (): void => undefined;
    const running = calls.track(() => new Promise<string>((resolve) => (finish = () => resolve('done'))));
    let closed = false;
    const closing = calls.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    finish();
    await closing;
    expect(await running).toBe('done');
    await expect(calls.track(async () => 'late')).rejects.toThrow('the shelf is closed');
  });
});
