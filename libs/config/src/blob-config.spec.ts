import { blobStoreConfigOf } from './blob-config';
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

  const keys = { WEFT_BLOB_ACCESS_KEY_ID: 'AKIDEXAMPLE', WEFT_BLOB_SECRET_ACCESS_KEY: 'secret' };

  const problemsOf = (env: Record<string, string>): { variable: string; message: string }[] => {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  it('without WEFT_BLOB_URL, blobs live in the database', () => {
    expect(blobStoreConfigOf(loadConfig({}))).toEqual({ kind: 'database' });
  });

  it('accept an s3:// WEFT_BLOB_URL with its endpoint, region, path style and prefix', () => {
    const config = loadConfig({ ...keys, WEFT_BLOB_URL: 's3://weft-blobs/prod/payloads?endpoint=http://127.0.0.1:9000&region=eu-west-1&forcePathStyle=true' });
    expect(blobStoreConfigOf(config)).toEqual({
      kind: 's3',
      bucket: 'weft-blobs',
      prefix: 'prod/payloads/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
    });
  });

  it('default to AWS: region us-east-1, virtual-hosted style, no prefix; AWS_* credentials when WEFT_BLOB_* are unset', () => {
    const config = loadConfig({ WEFT_BLOB_URL: 's3://weft-blobs', AWS_ACCESS_KEY_ID: 'aws-id', AWS_SECRET_ACCESS_KEY: 'aws-secret' });
    expect(blobStoreConfigOf(config)).toEqual({ kind: 's3', bucket: 'weft-blobs', prefix: '', region: 'us-east-1', forcePathStyle: false, accessKeyId: 'aws-id', secretAccessKey: 'aws-secret' });
    const both = loadConfig({ ...keys, WEFT_BLOB_URL: 's3://weft-blobs', AWS_ACCESS_KEY_ID: 'aws-id', AWS_SECRET_ACCESS_KEY: 'aws-secret' });
    expect(blobStoreConfigOf(both)).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
  });

  it.each([
    ['not a URL', 'expected s3://bucket'],
    ['https://weft-blobs/prefix', 'expected an s3:// URL'],
    ['s3://Bad_Bucket/x', 'not a valid bucket name'],
    ['s3://weft-blobs/a//b', 'the prefix must be'],
    ['s3://weft-blobs?endpoint=ftp://host', 'endpoint must be http(s)://host[:port]'],
    ['s3://weft-blobs?endpoint=nonsense', 'is not a URL'],
    ['s3://weft-blobs?forcePathStyle=yes', 'forcePathStyle must be true or false'],
    ['s3://weft-blobs?bucket=x', 'unknown parameter bucket'],
    ['s3://weft-blobs?region=EU%20West', 'is not a region name'],
    ['s3://id:secret@weft-blobs', 'credentials do not belong in the URL'],
  ])('refuse a malformed WEFT_BLOB_URL (%s) naming the variable', (url, message) => {
    expect(problemsOf({ ...keys, WEFT_BLOB_URL: url })).toEqual([expect.objectContaining({ variable: 'WEFT_BLOB_URL', message: expect.stringContaining(message) as unknown })]);
  });

  it('never echo credentials written into a refused URL', () => {
    const [problem] = problemsOf({ ...keys, WEFT_BLOB_URL: 's3://AKIDLEAK:s3cr3t@weft-blobs/p' });
    expect(problem.message).toContain('credentials do not belong in the URL');
    expect(problem.message).toContain('s3://***:***@weft-blobs/p');
    expect(problem.message).not.toMatch(/AKIDLEAK|s3cr3t/);
  });

  it('refuse WEFT_BLOB_URL without both halves of an access key', () => {
    for (const env of [{}, { WEFT_BLOB_ACCESS_KEY_ID: 'id' }, { AWS_SECRET_ACCESS_KEY: 'secret' }] as Record<string, string>[]) {
      expect(problemsOf({ ...env, WEFT_BLOB_URL: 's3://weft-blobs' })).toEqual([{ variable: 'WEFT_BLOB_URL', message: expect.stringContaining('needs WEFT_BLOB_ACCESS_KEY_ID and WEFT_BLOB_SECRET_ACCESS_KEY') as unknown }]);
    }
  });
});
