/**
 * The client address that per-address limits key on (SPEC W13, H1, H11). Pure string work.
 *
 * Behind `--trust-proxy HOPS`, the address is taken from `X-Forwarded-For` the way Express's
 * `trust proxy = N` does: the list is `client, proxy1, …, proxyK` and the TCP peer is the last
 * proxy, so with N trusted hops the client is the N-th entry from the right of
 * `[...forwardedFor, peer]`. Entries to the left of that were written by the client itself and
 * are never trusted. Off by default (0 hops): the TCP peer is the client.
 *
 * IPv6 clients are keyed by their /64: one host (one home, one phone on a carrier) is normally
 * given a whole /64, so keying by the full address would hand an attacker 2⁶⁴ budgets.
 */

/** Where a request came from. */
export interface AddressSource {
  /** The TCP peer (`socket.remoteAddress`). */
  readonly peer: string | undefined;
  /** Every `X-Forwarded-For` header value, joined with commas, if any. */
  readonly forwardedFor?: string | undefined;
  /** Proxies in front of the server whose `X-Forwarded-For` entries are trusted (0 = none). */
  readonly trustProxyHops: number;
}

/** The client's IP address, as far as the trusted proxies vouch for it. */
export function clientIp(s: AddressSource): string {
  const peer = s.peer ?? 'unknown';
  if (!(s.trustProxyHops > 0) || !s.forwardedFor) return peer;
  const hops = s.forwardedFor
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
  const chain = [...hops, peer];
  const i = Math.max(0, chain.length - 1 - Math.floor(s.trustProxyHops));
  return stripPort(chain[i] ?? peer);
}

/** `[::1]:123` → `::1`, `1.2.3.4:5` → `1.2.3.4` (some proxies append the port). */
function stripPort(a: string): string {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracket) return bracket[1] as string;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(a);
  return v4 ? (v4[1] as string) : a;
}

/**
 * The key a per-address limit uses: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its /64
 * prefix (`2001:db8:1:2::/64`), anything unparseable as the lower-cased string.
 */
export function addressKey(ip: string): string {
  const a = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  if (mapped) return mapped[1] as string;
  if (!a.includes(':')) return a;
  const groups = expandIpv6(a.split('%')[0] as string);
  if (!groups) return a;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (hex, no leading zeros), or null. */
function expandIpv6(a: string): string[] | null {
  let s = a;
  // An embedded IPv4 tail (::1.2.3.4) becomes two groups.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return null;
    s = `${s.slice(0, v4.index)}${(((b[0] as number) << 8) | (b[1] as number)).toString(16)}:${(((b[2] as number) << 8) | (b[3] as number)).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? (halves[0] as string).split(':') : [];
  const tail = halves.length === 2 && halves[1] ? (halves[1] as string).split(':') : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}

/** Whether the client reached us over TLS: directly, or as the trusted proxies say (`X-Forwarded-Proto`). */
export function viaTls(s: { readonly encrypted: boolean; readonly forwardedProto?: string | undefined; readonly trustProxyHops: number }): boolean {
  if (s.encrypted) return true;
  if (!(s.trustProxyHops > 0) || !s.forwardedProto) return false;
  // Each proxy appends its own view; the entry the outermost trusted proxy wrote is the one to believe.
  const protos = s.forwardedProto
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter((x) => x.length > 0);
  const i = Math.max(0, protos.length - Math.floor(s.trustProxyHops));
  return protos[i] === 'https';
}
