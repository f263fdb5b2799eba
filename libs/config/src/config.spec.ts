import { ConfigError, durationVariable, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies defaults for embedded mode', () => {
    const config = loadConfig({});
    expect(config.NATS_URL).toBeUndefined();
    expect(config.WEFT_DATA_DIR).toBe('.weft/data');
    expect(config.PORT).toBe(8080);
    expect(config.WEFT_MIGRATE).toBe(true);
  });

  it('coerces numbers and flags', () => {
    const config = loadConfig({ PORT: '9090', WEFT_MIGRATE: 'false', WEFT_QUEUES: 'io,cpu' });
    expect(config.PORT).toBe(9090);
    expect(config.WEFT_MIGRATE).toBe(false);
    expect(config.WEFT_QUEUES).toBe('io,cpu');
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', NATS_URL: 'nats://a:4222' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT:/);
    expect(message).toMatch(/DATABASE_URL: expected postgres/);
    expect(message).not.toMatch(/NATS_URL/);
  });

  it('takes WEFT_NATS_REPLICAS from 1 to 5, and leaves it unset by default (new streams get 1, existing ones keep theirs)', () => {
    expect(loadConfig({}).WEFT_NATS_REPLICAS).toBeUndefined();
    expect(loadConfig({ WEFT_NATS_REPLICAS: '1' }).WEFT_NATS_REPLICAS).toBe(1);
    expect(loadConfig({ WEFT_NATS_REPLICAS: '3' }).WEFT_NATS_REPLICAS).toBe(3);
    for (const bad of ['0', '6', '2.5', 'three']) {
      expect(() => loadConfig({ WEFT_NATS_REPLICAS: bad })).toThrow(new RegExp(`WEFT_NATS_REPLICAS: .*\\(got "${bad.replace('.', '\\.')}"\\)`));
    }
  });
});

describe('durationVariable', () => {
  it('reads a duration, falls back when unset or blank, and takes 0 as off', () => {
    expect(durationVariable({ WEFT_X: '12h' }, 'WEFT_X', '30d', '30d or 12h')).toBe(12 * 3_600_000);
    expect(durationVariable({}, 'WEFT_X', '30d', '30d or 12h')).toBe(30 * 86_400_000);
    expect(durationVariable({ WEFT_X: '  ' }, 'WEFT_X', '90m', '30d or 12h')).toBe(90 * 60_000);
    expect(durationVariable({ WEFT_X: '0' }, 'WEFT_X', '30d', '30d or 12h')).toBe(0);
  });

  it('names the variable and the examples when the value is not a duration', () => {
    expect(() => durationVariable({ WEFT_X: 'forever' }, 'WEFT_X', '30d', '30d or 12h')).toThrow(
      expect.objectContaining({ problems: [{ variable: 'WEFT_X', message: 'expected a duration such as 30d or 12h, or 0 (got "forever")' }] }),
    );
  });
});
