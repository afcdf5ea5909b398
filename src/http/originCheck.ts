/**
 * Cross-origin protection for state-changing requests (SPEC H11), after Go 1.25's
 * `net/http.CrossOriginProtection` (Filippo Valsorda, "CSRF", 2025): browsers mark every
 * request with `Sec-Fetch-Site` (all current engines since 2023) or at least `Origin`, so a
 * request is cross-site exactly when
 *
 *   1. `Sec-Fetch-Site` is present and is neither `same-origin` nor `none`, or
 *   2. there is no `Sec-Fetch-Site`, but an `Origin` whose host is not the request's `Host`;
 *
 * unless its origin is one of the trusted origins (the server's public URL). A request with
 * neither header is not from a browser page (curl, the CLI, the simulator) and is let through:
 * the attack this stops is a web page making a *visitor's browser* create spaces or join them.
 * Safe methods (GET, HEAD, OPTIONS) change nothing and are not checked — except the WebSocket
 * upgrade, which is a GET that joins a space, so the edge checks it with `stateChanging: true`.
 */
import { httpStatusOf } from '../core/errors.ts';

/** The request headers the check reads (lower-case names). */
export interface OriginHeaders {
  readonly method: string;
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly secFetchSite: string | undefined;
}

/** Whether the request is same-origin enough to be allowed to change state. */
export function isCrossOrigin(h: OriginHeaders, trustedOrigins: ReadonlySet<string>, stateChanging = !['GET', 'HEAD', 'OPTIONS'].includes(h.method.toUpperCase())): boolean {
  if (!stateChanging) return false;
  if (h.origin && trustedOrigins.has(h.origin.toLowerCase())) return false;
  const site = h.secFetchSite?.toLowerCase();
  if (site) return site !== 'same-origin' && site !== 'none';
  if (!h.origin) return false;
  // `Origin: null` (sandboxed frames, some redirects) is never same-origin.
  let originHost: string;
  try {
    originHost = new URL(h.origin).host.toLowerCase();
  } catch {
    return true;
  }
  return !h.host || originHost !== h.host.toLowerCase();
}

/** The origin (`scheme://host[:port]`, lower case) of a URL, or null if it is not http(s). */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin.toLowerCase() : null;
  } catch {
    return null;
  }
}

/**
 * For a WebSocket upgrade (a GET that joins a space, so checked as state-changing): null to
 * accept it, or the raw HTTP 403 response to write to the socket before closing it.
 */
export function upgradeRefusal(headers: Readonly<Record<string, string | string[] | undefined>>, publicUrl: string): string | null {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const trusted = new Set<string>();
  const own = originOf(publicUrl);
  if (own) trusted.add(own);
  const cross = isCrossOrigin({ method: 'GET', host: one(headers.host), origin: one(headers.origin), secFetchSite: one(headers['sec-fetch-site']) }, trusted, true);
  if (!cross) return null;
  const body = JSON.stringify({ error: { code: 'CROSS_ORIGIN', message: "WebSocket connections must come from this server's own pages" } });
  return `HTTP/1.1 ${httpStatusOf('CROSS_ORIGIN')} Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
