/**
 * Security headers for every response (SPEC H12): pure — a path and a few request facts in,
 * header pairs out, so the policy is one table that tests can read.
 *
 * Pages are built by Vite into external module scripts and stylesheets, so the policy allows
 * no inline script and no inline `<style>`/`style="…"` markup (Preact sets styles through the
 * CSSOM, which `style-src` does not govern). `connect-src` names the WebSocket origins
 * explicitly because `'self'` matched `ws:`/`wss:` only from CSP Level 3 on (Safari < 15.4 does
 * not). Framing is refused for every page except displays, which venues embed (a per-space
 * allow-list for displays is a later issue). HSTS is sent only when the request came over TLS,
 * since browsers ignore it over plain HTTP and a local HTTP server must stay reachable.
 */

/** The request facts the headers depend on. */
export interface HeaderContext {
  /** Request path, e.g. `/s/ABCD2345` or `/api/spaces`. */
  readonly path: string;
  /** The Host header (already checked to be a plain host[:port]), or undefined. */
  readonly host: string | undefined;
  /** Whether the client reached us over TLS (directly or through a trusted proxy). */
  readonly tls: boolean;
  /** For a frameable page: the only origins that may frame it (its space's allow-list); absent = any. */
  readonly frameAncestors?: readonly string[];
}

/** Pages that may be framed by other sites (for now: displays, which venues embed). */
const FRAMEABLE = /^\/d\//;

/** A host safe to put into a header (no spaces, quotes, semicolons or commas). */
function safeHost(host: string | undefined): string | null {
  return host && /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/.test(host) ? host : null;
}

/** The Content-Security-Policy for a page. */
export function pagePolicy(ctx: HeaderContext): string {
  const host = safeHost(ctx.host);
  const sockets = host ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    ...(FRAMEABLE.test(ctx.path) ? (ctx.frameAncestors?.length ? [`frame-ancestors 'self' ${ctx.frameAncestors.join(' ')}`] : []) : ["frame-ancestors 'none'"]),
  ].join('; ');
}

/** The policy for API and other non-page responses: they are data, never rendered. */
export const API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The security headers for one response. */
export function securityHeaders(ctx: HeaderContext, kind: 'page' | 'api' | 'asset'): [string, string][] {
  const h: [string, string][] = [
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'no-referrer'],
    ['cross-origin-opener-policy', 'same-origin'],
  ];
  if (kind === 'page') h.push(['content-security-policy', pagePolicy(ctx)]);
  else if (kind === 'api') h.push(['content-security-policy', API_POLICY]);
  if (kind !== 'asset' && !FRAMEABLE.test(ctx.path)) h.push(['x-frame-options', 'DENY']);
  if (ctx.tls) h.push(['strict-transport-security', 'max-age=31536000']);
  return h;
}
