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
});
