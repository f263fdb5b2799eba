import fc from 'fast-check';
import { deniedReason, embeddedV4, HttpDestinationGuard, httpPolicyOf } from './http-destination.guard';

describe('deniedReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private (RFC 1918)'],
    ['172.31.255.255', 'private (RFC 1918)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['100.127.0.1', 'shared address space (CGNAT)'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['0.0.0.0', 'this network'],
    ['255.255.255.255', 'reserved (and broadcast)'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'unique local (ULA)'],
    ['fdff:ffff::1', 'unique local (ULA)'],
    ['fe80::abcd', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback (IPv4 127.0.0.1 inside IPv6)'],
    ['::ffff:7f00:1', 'loopback (IPv4 127.0.0.1 inside IPv6)'],
    ['::ffff:10.0.0.1', 'private (RFC 1918) (IPv4 10.0.0.1 inside IPv6)'],
    ['64:ff9b::a9fe:a9fe', 'link-local (cloud metadata) (IPv4 169.254.169.254 inside IPv6)'],
  ])('%s is %s', (address, reason) => {
    expect(deniedReason(address)).toBe(reason);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(deniedReason(address)).toBeUndefined();
  });

  it('reads the IPv4 address inside every IPv4-mapped IPv6 spelling (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
        const hex = `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        expect(embeddedV4(`::ffff:${v4}`)).toBe(v4);
        expect(embeddedV4(hex)).toBe(v4);
        // Mapped or not, an address is denied for the same reason.
        expect(deniedReason(hex)?.startsWith(deniedReason(v4) ?? '<public>') ?? deniedReason(v4) === undefined).toBe(true);
      }),
    );
  });
});

describe('HttpDestinationGuard', () => {
  it('allows CIDRs, single addresses and host names, case- and trailing-dot-insensitive', () => {
    const guard = new HttpDestinationGuard({ allow: ['127.0.0.1/32', ' 10.0.0.0/8 ', 'API.internal', '*.svc.example', 'fd00::/8'] });
    expect(() => guard.checkAddress('x', '127.0.0.1', 80)).not.toThrow();
    expect(() => guard.checkAddress('x', '10.9.8.7', 80)).not.toThrow();
    expect(() => guard.checkAddress('x', '::ffff:10.9.8.7', 80)).not.toThrow();
    expect(() => guard.checkAddress('api.internal.', '192.168.1.1', 80)).not.toThrow();
    expect(() => guard.checkAddress('db.svc.example', '172.16.0.5', 80)).not.toThrow();
    expect(() => guard.checkAddress('x', 'fd12::1', 80)).not.toThrow();
    expect(() => guard.checkAddress('x', '127.0.0.2', 80)).toThrow(/127\.0\.0\.2 is loopback/);
    expect(() => guard.checkAddress('other.internal', '192.168.1.1', 80)).toThrow(/other\.internal \(resolved to 192\.168\.1\.1\)/);
  });

  it('refuses through its lookup hook when a name resolves to a denied address', async () => {
    const guard = new HttpDestinationGuard();
    const error = await new Promise<unknown>((resolve) => guard.lookupFor(80)('localhost', { all: false }, (e) => resolve(e)));
    expect(error).toMatchObject({ code: 'HTTP_DESTINATION_DENIED' });
  });
});

describe('httpPolicyOf', () => {
  it('reads WEFT_HTTP_ALLOW and protects NATS, PostgreSQL, the API and this process', () => {
    expect(
      httpPolicyOf({
        WEFT_HTTP_ALLOW: ' 127.0.0.1/32 , api.internal,',
        NATS_URL: 'nats://127.0.0.1:4222,nats://nats-2',
        DATABASE_URL: 'postgres://u:p@DB.internal/weft',
        WEFT_API_URL: 'http://[::1]:9000',
        HOST: '0.0.0.0',
        PORT: 8080,
      }),
    ).toEqual({
      allow: ['127.0.0.1/32', 'api.internal'],
      protect: ['127.0.0.1:4222', 'nats-2:4222', 'db.internal:5432', '::1:9000', '127.0.0.1:8080', '::1:8080', 'localhost:8080'],
    });
  });

  it('refuses a protected endpoint even inside an allowed range, and only on its port', () => {
    const guard = new HttpDestinationGuard(httpPolicyOf({ WEFT_HTTP_ALLOW: '127.0.0.0/8', NATS_URL: 'nats://127.0.0.1:4222' }));
    expect(() => guard.checkAddress('127.0.0.1', '127.0.0.1', 4222)).toThrow(/own services/);
    expect(() => guard.checkAddress('127.0.0.1', '127.0.0.1', 4223)).not.toThrow();
  });
});
