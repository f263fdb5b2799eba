import { ConfigError, loadConfig } from './config';

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

describe('retention variables', () => {
  it('read a duration in ms, take the default when unset or blank, and 0 as off', () => {
    expect(loadConfig({ WEFT_JOURNAL_RETENTION: '12h' }).WEFT_JOURNAL_RETENTION).toBe(12 * 3_600_000);
    expect(loadConfig({}).WEFT_JOURNAL_RETENTION).toBe(30 * 86_400_000);
    expect(loadConfig({ WEFT_JOURNAL_RETENTION: '' }).WEFT_JOURNAL_RETENTION).toBe(30 * 86_400_000);
    expect(loadConfig({ WEFT_ANALYTICS_RETENTION: ' 90m ' }).WEFT_ANALYTICS_RETENTION).toBe(90 * 60_000);
    expect(loadConfig({}).WEFT_ANALYTICS_RETENTION).toBe(90 * 86_400_000);
    expect(loadConfig({ WEFT_JOURNAL_RETENTION: '0' }).WEFT_JOURNAL_RETENTION).toBe(0);
    expect(loadConfig({}).WEFT_JOURNAL_PRUNE_INTERVAL).toBe(10 * 60_000);
    expect(loadConfig({}).WEFT_ANALYTICS_PRUNE_INTERVAL).toBe(10 * 60_000);
    expect(loadConfig({}).WEFT_OUTBOX_RETENTION).toBe(3_600_000);
    expect(loadConfig({ WEFT_OUTBOX_RETENTION: '0' }).WEFT_OUTBOX_RETENTION).toBe(0);
    expect(loadConfig({}).WEFT_OUTBOX_PRUNE_INTERVAL).toBe(60_000);
    expect(loadConfig({}).WEFT_TRIGGER_FIRE_RETENTION).toBe(30 * 86_400_000);
    expect(loadConfig({ WEFT_TRIGGER_FIRE_RETENTION: '0' }).WEFT_TRIGGER_FIRE_RETENTION).toBe(0);
    expect(loadConfig({}).WEFT_TRIGGER_PRUNE_INTERVAL).toBe(10 * 60_000);
  });

  it('name the variable and the examples when the value is not a duration', () => {
    expect(() => loadConfig({ WEFT_JOURNAL_RETENTION: 'forever' })).toThrow(
      expect.objectContaining({ problems: [{ variable: 'WEFT_JOURNAL_RETENTION', message: 'expected a duration such as 30d, 12h or 90m, or 0 (got "forever")' }] }),
    );
    expect(() => loadConfig({ WEFT_ANALYTICS_RETENTION: 'forever' })).toThrow(
      expect.objectContaining({ problems: [{ variable: 'WEFT_ANALYTICS_RETENTION', message: 'expected a duration such as 90d or 12h, or 0 (got "forever")' }] }),
    );
    expect(() => loadConfig({ WEFT_OUTBOX_RETENTION: 'soon' })).toThrow(
      expect.objectContaining({ problems: [{ variable: 'WEFT_OUTBOX_RETENTION', message: 'expected a duration such as 1h, 30m or 7d, or 0 (got "soon")' }] }),
    );
  });

  it('refuse a prune interval under 1s, 0 included', () => {
    for (const variable of ['WEFT_JOURNAL_PRUNE_INTERVAL', 'WEFT_ANALYTICS_PRUNE_INTERVAL', 'WEFT_OUTBOX_PRUNE_INTERVAL', 'WEFT_TRIGGER_PRUNE_INTERVAL']) {
      for (const bad of ['0', '500ms']) {
        expect(() => loadConfig({ [variable]: bad })).toThrow(expect.objectContaining({ problems: [{ variable, message: `must be at least 1s (got "${bad}")` }] }));
      }
      expect(loadConfig({ [variable]: '1s' })[variable as 'WEFT_JOURNAL_PRUNE_INTERVAL']).toBe(1_000);
    }
  });
});
