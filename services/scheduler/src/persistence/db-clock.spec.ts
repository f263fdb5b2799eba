import { DbClock } from './db-clock';

describe('DbClock', () => {
  let local = 0;
  const clock = () => new DbClock(() => local);

  beforeEach(() => {
    local = 1_000;
  });

  it('knows no time before a reading, and moves with the local clock after one', () => {
    const c = clock();
    expect(c.now()).toBeUndefined();
    c.observe(50_000);
    local += 7;
    expect(c.now()).toBe(50_007);
  });

  it('keeps the least lagging reading: never behind a reading it received', () => {
    const c = clock();
    c.observe(50_000);
    // Arrived 30 ms after it was taken (a busy event loop): it does not pull the estimate back.
    local += 40;
    c.observe(50_010);
    expect(c.now()).toBe(50_040);
    local += 1;
    c.observe(50_045);
    expect(c.now()).toBe(50_045);
  });

  it('forgets readings after 5-10 s, and knows no time when none is that recent', () => {
    const c = clock();
    c.observe(50_000);
    local += 6_000;
    c.observe(55_000); // the clock was stepped back 1 s: this window starts over
    expect(c.now()).toBe(56_000); // the previous window still counts
    local += 5_000;
    c.observe(60_000);
    expect(c.now()).toBe(60_000);
    local += 10_000;
    expect(c.now()).toBeUndefined();
  });
});
