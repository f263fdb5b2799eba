import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { NonRetryableError } from '../action.errors';

/** The environment variable that widens what http.request may reach (read by libs/config). */
export const HTTP_ALLOW_VARIABLE = 'WEFT_HTTP_ALLOW';
export const HTTP_DESTINATION_DENIED = 'HTTP_DESTINATION_DENIED';

/**
 * Addresses no workflow reaches unless WEFT_HTTP_ALLOW says so: this host, its link-local
 * neighbours (cloud metadata at 169.254.169.254), private and shared networks where the
 * cluster's own services live (PostgreSQL, NATS, Weft's API), and ranges that are not unicast
 * destinations on the internet. IPv4 embedded in IPv6 (mapped, compatible, NAT64) is checked
 * as the IPv4 address it carries.
 */
const DENIED_V4 = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (and broadcast)'],
] as const;
const DENIED_V6 = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['fc00::', 7, 'unique local (ULA)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
] as const;

interface Range {
  list: BlockList;
  reason: string;
}
const DENIED: Range[] = [
  ...DENIED_V4.map(([network, prefix, reason]) => range(network, prefix, 'ipv4', reason)),
  ...DENIED_V6.map(([network, prefix, reason]) => range(network, prefix, 'ipv6', reason)),
];

function range(network: string, prefix: number, family: 'ipv4' | 'ipv6', reason: string): Range {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, reason };
}

/** A destination refused by policy: fails the step for good, saying what would allow it. */
export class DestinationDeniedError extends NonRetryableError {
  constructor(
    readonly host: string,
    readonly address: string,
    reason: string,
  ) {
    const resolved = host === address ? address : `${host} (resolved to ${address})`;
    super(`http.request may not reach ${resolved}: ${reason}; allow it explicitly with ${HTTP_ALLOW_VARIABLE} (hosts or CIDRs, comma-separated)`, {
      code: HTTP_DESTINATION_DENIED,
    });
    this.name = 'DestinationDeniedError';
  }
}

/** A malformed WEFT_HTTP_ALLOW entry. */
export class HttpAllowlistError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(entry: string, reason: string) {
    super(`${HTTP_ALLOW_VARIABLE}: ${JSON.stringify(entry)} is ${reason} (expected hosts or CIDRs such as api.internal,10.0.0.0/8,::1/128)`);
    this.name = 'HttpAllowlistError';
  }
}

export interface HttpDestinationPolicy {
  /** Hosts (exact, or `*.suffix`) and CIDRs (a bare address is one host) that may be reached despite the denied ranges. @default none */
  allow?: readonly string[];
  /**
   * `host:port` endpoints of the deployment itself (NATS, PostgreSQL, the API): refused even when an
   * allowed CIDR covers their address, so allowing 127.0.0.1/32 in development does not open them.
   */
  protect?: readonly string[];
}

const HOST_PATTERN = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/**
 * Decides whether an address may be reached. Built once per worker from its configuration;
 * `lookup` is the DNS hook the HTTP agent connects through, so the address checked is the one
 * connected to (a name that resolves differently a moment later cannot slip past).
 */
export class HttpDestinationGuard {
  private readonly hosts = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly allowed = new BlockList();
  private readonly protectedEndpoints: { host: string; port: number }[] = [];

  constructor(policy: HttpDestinationPolicy = {}) {
    for (const raw of policy.allow ?? []) this.allowEntry(raw);
    for (const raw of policy.protect ?? []) {
      const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(raw.trim());
      if (match?.[1] !== undefined && match[2] !== undefined) this.protectedEndpoints.push({ host: normalizeHost(match[1]), port: Number(match[2]) });
    }
  }

  private allowEntry(raw: string): void {
    const entry = raw.trim().toLowerCase();
    if (entry === '') return;
    const [address, prefixText, extra] = entry.split('/');
    const family = address === undefined ? 0 : isIP(address);
    if (family !== 0 && address !== undefined && extra === undefined) {
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText ?? String(max)) || prefix > max) throw new HttpAllowlistError(raw, `not a valid CIDR (prefix 0-${max})`);
      this.allowed.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
      return;
    }
    const host = normalizeHost(entry);
    if (!HOST_PATTERN.test(host)) throw new HttpAllowlistError(raw, 'neither a host name nor a CIDR');
    if (host.startsWith('*.')) this.suffixes.push(host.slice(1));
    else this.hosts.add(host);
  }

  /** True when the URL's host is allowed by name (its addresses are then not checked). */
  hostAllowed(host: string): boolean {
    const name = normalizeHost(host);
    return this.hosts.has(name) || this.suffixes.some((suffix) => name.endsWith(suffix));
  }

  /** Throws DestinationDeniedError unless `address` (what `host` resolved to) may be reached on `port`. */
  checkAddress(host: string, address: string, port: number): void {
    for (const endpoint of this.protectedEndpoints) {
      if (endpoint.port === port && (endpoint.host === normalizeHost(host) || endpoint.host === normalizeHost(address))) {
        throw new DestinationDeniedError(host, address, `it is one of this deployment's own services (${endpoint.host}:${endpoint.port}), which no allowlist opens`);
      }
    }
    if (this.hostAllowed(host)) return;
    const reason = deniedReason(address);
    if (reason === undefined) return;
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(address, family) || (embeddedV4(address) !== undefined && this.allowed.check(embeddedV4(address) ?? '', 'ipv4'))) return;
    throw new DestinationDeniedError(host, address, `${address} is ${reason}`);
  }

  /** Checks a URL whose host is an IP literal (sockets skip DNS for those, so `lookup` never sees them). */
  checkUrl(url: URL): void {
    const host = normalizeHost(url.hostname);
    if (isIP(host) !== 0) this.checkAddress(host, host, portOf(url));
  }

  /** A `lookup` for net/tls.connect: resolves, refuses the lot if any address is denied, and hands back only checked ones. */
  lookupFor(port: number): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) return callback(error, '', 0);
        try {
          for (const { address } of addresses) this.checkAddress(hostname, address, port);
        } catch (denied) {
          return callback(denied as NodeJS.ErrnoException, '', 0);
        }
        if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
        const first = addresses[0];
        if (first === undefined) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        callback(null, first.address, first.family);
      });
    };
  }
}

function normalizeHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, '');
}

export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Why `address` is denied by default, or undefined when it is a public unicast address. */
export function deniedReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const v4 = family === 4 ? address : embeddedV4(address);
  if (v4 !== undefined) {
    const hit = DENIED.find((r) => r.list.check(v4, 'ipv4'));
    if (hit) return v4 === address ? hit.reason : `${hit.reason} (IPv4 ${v4} inside IPv6)`;
    if (family === 4) return undefined;
  }
  return DENIED.find((r) => r.list.check(address, 'ipv6'))?.reason;
}

/** The IPv4 address carried by an IPv4-mapped (::ffff:a.b.c.d), -compatible (::a.b.c.d) or NAT64 (64:ff9b::/96) IPv6 address. */
export function embeddedV4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const words = expandV6(address);
  if (words === undefined) return undefined;
  const zeros = (from: number, to: number): boolean => words.slice(from, to).every((w) => w === 0);
  const mapped = zeros(0, 5) && words[5] === 0xffff;
  const compatible = zeros(0, 6) && (words[6] !== 0 || (words[7] ?? 0) > 1);
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && zeros(2, 6);
  if (!mapped && !compatible && !nat64) return undefined;
  const high = words[6] ?? 0;
  const low = words[7] ?? 0;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** Eight 16-bit words of an IPv6 address (a trailing dotted quad becomes two words). */
function expandV6(address: string): number[] | undefined {
  let text = address.toLowerCase().split('%')[0] ?? '';
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const fill = 8 - left.length - right.length;
  if (fill < 0 || (tail === undefined && fill !== 0)) return undefined;
  return [...left, ...Array.from({ length: fill }, () => 0), ...right];
}

/** The configuration a policy is built from (a subset of libs/config's WeftConfig). */
export interface HttpPolicySource {
  WEFT_HTTP_ALLOW?: string;
  NATS_URL?: string;
  DATABASE_URL?: string;
  WEFT_API_URL?: string;
  HOST?: string;
  PORT?: number;
}

const DEFAULT_PORTS: Record<string, number> = { 'nats:': 4222, 'tls:': 4222, 'ws:': 80, 'wss:': 443, 'postgres:': 5432, 'postgresql:': 5432, 'http:': 80, 'https:': 443 };

/** WEFT_HTTP_ALLOW, and this deployment's own endpoints (NATS, PostgreSQL, the API, this process's port) to protect. */
export function httpPolicyOf(config: HttpPolicySource): HttpDestinationPolicy {
  const allow = (config.WEFT_HTTP_ALLOW ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const protect: string[] = [];
  const urls = [...(config.NATS_URL ?? '').split(','), config.DATABASE_URL ?? '', config.WEFT_API_URL ?? ''];
  for (const text of urls) {
    if (!URL.canParse(text.trim())) continue;
    const url = new URL(text.trim());
    const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
    if (port !== undefined && url.hostname !== '') protect.push(`${normalizeHost(url.hostname)}:${port}`);
  }
  if (config.PORT !== undefined && config.PORT > 0) {
    const host = normalizeHost(config.HOST ?? '127.0.0.1');
    // A wildcard bind listens on every local address; loopback is how a step would reach it.
    const hosts = host === '0.0.0.0' || host === '::' ? ['127.0.0.1', '::1', 'localhost'] : [host];
    for (const h of hosts) protect.push(`${h}:${config.PORT}`);
  }
  return { allow, protect };
}
