import { ConfigError, loadConfig } from './config';

describe('large payload variables', () => {
  it('default to a 256 KiB inline threshold and a 100 MiB output', () => {
    const config = loadConfig({});
    expect(config.WEFT_INLINE_PAYLOAD_MAX).toBe(256 * 1024);
    expect(config.WEFT_MAX_OUTPUT).toBe(100 * 1024 * 1024);
  });

  it('parse sizes', () => {
    const config = loadConfig({ WEFT_INLINE_PAYLOAD_MAX: '64kb', WEFT_MAX_OUTPUT: '20mb' });
    expect(config.WEFT_INLINE_PAYLOAD_MAX).toBe(64 * 1024);
    expect(config.WEFT_MAX_OUTPUT).toBe(20 * 1024 * 1024);
  });

  it('refuse WEFT_BLOB_URL at boot: S3 is not supported yet', () => {
    let caught: unknown;
    try {
      loadConfig({ WEFT_BLOB_URL: 's3://bucket/prefix' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([expect.objectContaining({ variable: 'WEFT_BLOB_URL', message: expect.stringContaining('not supported yet') as unknown })]);
  });
});
