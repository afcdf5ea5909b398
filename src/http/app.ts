/**
 * The HTTP API (SPEC.md §H) and the web app's static files, as one Hono app. Routes only
 * translate Request/Response ↔ service calls; every failure is a coded JSON error
 * `{ "error": { "code", "message" } }` with the status from errors.ts.
 *
 * Every response carries the security headers of securityHeaders.ts (H12); every
 * state-changing request passes the cross-origin check of originCheck.ts (H11).
 */
import { serveStatic } from '@hono/node-server/serve-static';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import QRCode from 'qrcode';
import * as v from 'valibot';
import { type ErrorCode, httpStatusOf, normaliseError } from '../core/errors.ts';
import { addressKey, clientIp, viaTls } from '../core/clientAddress.ts';
import { awaitAdmission, JoinThrottle } from '../core/joinThrottle.ts';
import { normaliseCode } from '../core/protocol.ts';
import { KeyedBuckets } from '../core/rateLimit.ts';
import { isCrossOrigin, originOf } from './originCheck.ts';
import { securityHeaders } from './securityHeaders.ts';
import type { PulsePoint, SpaceRecord } from '../storage/port.ts';
import type { SpaceHost } from '../space/spaceHost.ts';
import type { SeriesRelease } from '../space/privacyDesk.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bearer, readJsonBody } from './request.ts';

/** A published DP series release as the compare view serves it (H6, H15). */
export type ReleasedSeries = Pick<SeriesRelease, 'n' | 'at' | 'params' | 'rho' | 'sigma' | 'points'>;

/** Settings of the HTTP app. */
export interface AppOptions {
  readonly host: SpaceHost;
  /** The public base URL (scheme://host:port) used in join and display links. */
  readonly publicUrl: (c: Context) => string;
  /** Checks an admin token (for listing every space). */
  readonly isAdmin: (token: string | null) => boolean;
  /** The built web app (web/dist), or null to serve the API only. */
  readonly webRoot: string | null;
  /** Sub-apps to mount, e.g. the transparency log at `/log`. */
  readonly mounts?: readonly { readonly path: string; readonly app: Hono }[];
  /** Largest request body, bytes. */
  readonly maxBodyBytes?: number;
  /** Spaces one client address may create per hour (H1). */
  readonly createsPerHour?: number;
  /** Reverse proxies in front of the server whose `X-Forwarded-*` headers are trusted (0 = none). */
  readonly trustProxyHops?: number;
  /** The clock, for the creation quota and the join throttle. */
  readonly clock?: () => number;
  /**
   * The join-code guessing throttle (W13), shared with the WebSocket edge: every route that
   * takes a code is a way to test one, so it spends the same per-address budget.
   */
  readonly joinThrottle?: JoinThrottle;
  /**
   * Routes under `/api/spaces` built with the app's space lookup (which spends the join-guess
   * budget, W13), e.g. the feeds' (src/http/feedRoutes.ts); mounted before the API's catch-all.
   */
  /** A display's frame-ancestors allow-list by path (src/feeds/embedBook.ts); absent = any site. */
  readonly frameAncestorsOf?: (path: string) => readonly string[] | undefined;
  readonly spaceRoutes?: readonly ((withSpace: (c: Context) => Promise<SpaceRecord | Response>) => Hono)[];
  /** Other API routes with their own full paths (e.g. `/api/me/…`, src/http/meRoutes.ts), mounted before the API's catch-all. */
  readonly apiRoutes?: readonly Hono[];
  /**
   * A space's latest published DP series release (R8, H6; src/space/privacyDesk.ts), or null while
   * none was made: the compare view's histories (H15). Answered from the store, spending nothing.
   */
  readonly releasedSeries?: (spaceId: string) => Promise<ReleasedSeries | null>;
  /** The shipped space templates (Q14), served at `GET /api/templates` for the front page's picker. */
  readonly templates?: readonly { readonly name: string; readonly json: unknown }[];
}

/** Resolves true after `ms`, or false as soon as `signal` aborts (the client went away). */
function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A coded JSON error response; `retryAfterMs` adds `Retry-After` (whole seconds, RFC 9110 §10.2.3). */
export function errorResponse(c: Context, code: ErrorCode, message: string, retryAfterMs?: number): Response {
  if (retryAfterMs !== undefined) c.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  return c.json({ error: { code, message } }, httpStatusOf(code) as 400);
}

type NodeEnv = { incoming?: { socket?: { remoteAddress?: string; encrypted?: boolean } } } | undefined;

/** The key per-address limits use for this request (the client's address, H13). */
export function requestAddress(c: Context, trustProxyHops: number): string {
  const peer = (c.env as NodeEnv)?.incoming?.socket?.remoteAddress ?? 'local';
  return addressKey(clientIp({ peer, forwardedFor: c.req.header('x-forwarded-for'), trustProxyHops }));
}

/** Whether the request reached us over TLS (directly or through a trusted proxy). */
function requestTls(c: Context, trustProxyHops: number): boolean {
  const encrypted = (c.env as NodeEnv)?.incoming?.socket?.encrypted === true || c.req.url.startsWith('https:');
  return viaTls({ encrypted, forwardedProto: c.req.header('x-forwarded-proto'), trustProxyHops });
}

/** Which kind of response a path gets (for its security headers). */
function responseKind(path: string): 'page' | 'api' | 'asset' {
  if (path.startsWith('/api/') || path === '/api' || path.startsWith('/log') || path === '/healthz' || path === '/readyz' || path === '/metrics') return 'api';
  if (path.startsWith('/assets/') || /\.[A-Za-z0-9]+$/.test(path)) return 'asset';
  return 'page';
}


const CreateSpaceSchema = v.strictObject({
  // Length and characters are checked by the service (core/spaceName.ts), in graphemes.
  name: v.pipe(v.string(), v.maxLength(4096, 'name is far too long')),
  capacity: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  ttlSeconds: v.optional(v.pipe(v.number(), v.finite(), v.minValue(5), v.maxValue(86_400))),
  // V3: days raw data about people is kept after the space closes (checked by the service, as in templates).
  retentionDays: v.optional(v.number()),
  // R6: up to 8 named groups; names are checked by the service (core/groups/groupNames.ts).
  groups: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(400, 'a group name is far too long'))), v.maxLength(8, 'at most 8 groups'))),
  // Q14: a template (a shipped one's JSON or the steward's own), checked by the service.
  template: v.optional(v.unknown()),
});

const LinkSchema = v.strictObject({ with: v.pipe(v.string(), v.minLength(4), v.maxLength(32)), agree: v.optional(v.boolean(), true) });


/** Links a steward needs for a space. */
export function spaceLinks(base: string, code: string): { joinUrl: string; displayUrl: string; stewardUrl: string; qrSvgUrl: string; qrPngUrl: string } {
  return {
    joinUrl: `${base}/j/${code}`,
    displayUrl: `${base}/d/${code}`,
    stewardUrl: `${base}/s/${code}`,
    qrSvgUrl: `${base}/api/spaces/${code}/qr.svg`,
    qrPngUrl: `${base}/api/spaces/${code}/qr.png`,
  };
}

/** RFC 4180 CSV of a pulse series. */
export function seriesCsv(points: readonly PulsePoint[]): string {
  const lines = ['at,count,valence,arousal,spread_valence,spread_arousal,pleasant_energised,pleasant_calm,unpleasant_calm,unpleasant_energised'];
  const f = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(6));
  for (const p of points) lines.push([p.at, p.count, p.valence, p.arousal, p.spreadValence, p.spreadArousal, ...p.quadrants].map(f).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Builds the app. */
export function createApp(o: AppOptions): Hono {
  const app = new Hono();
  const svc = o.host;

  app.onError((e, c) => {
    const n = normaliseError(e);
    if (n.code === 'INTERNAL') console.error('attune: request failed', e);
    return errorResponse(c, n.code, n.message);
  });

  const hops = o.trustProxyHops ?? 0;
  const clock = o.clock ?? Date.now;

  // H12: security headers on every response, errors included.
  app.use('*', async (c, next) => {
    await next();
    const path = new URL(c.req.url).pathname;
    const frameAncestors = o.frameAncestorsOf?.(path);
    for (const [k, val] of securityHeaders({ path, host: c.req.header('host'), tls: requestTls(c, hops), ...(frameAncestors ? { frameAncestors } : {}) }, responseKind(path))) c.res.headers.set(k, val);
  });

  // H11: a page of another site may not make a visitor's browser change anything here.
  app.use('*', async (c, next) => {
    const trusted = new Set<string>();
    const own = originOf(o.publicUrl(c));
    if (own) trusted.add(own);
    const crossOrigin = isCrossOrigin({ method: c.req.method, host: c.req.header('host'), origin: c.req.header('origin'), secFetchSite: c.req.header('sec-fetch-site') }, trusted);
    if (crossOrigin) return errorResponse(c, 'CROSS_ORIGIN', 'requests that change something must come from this server\'s own pages');
    await next();
    return undefined;
  });

  app.use('/api/*', bodyLimit({ maxSize: o.maxBodyBytes ?? 16 * 1024, onError: (c) => errorResponse(c, 'TOO_LARGE', 'request body too large') }));

  app.get('/healthz', (c) => c.json({ ok: true }));

  const throttle = o.joinThrottle ?? new JoinThrottle();
  const pub = (space: SpaceRecord) => {
    const live = svc.presence(space.id);
    return { ...svc.info(space), present: live.present, connected: live.connected, createdAt: space.createdAt, closedAt: space.closedAt, ...svc.retentionOf(space) };
  };

  const createsPerHour = o.createsPerHour ?? 60;
  const creates = new KeyedBuckets(createsPerHour / 3600, createsPerHour);
  app.post('/api/spaces', async (c) => {
    // A JSON content type cannot be sent cross-site without a CORS preflight (which we never
    // grant), so requiring it also keeps plain HTML forms and `fetch(…, {mode:'no-cors'})` out.
    if (!/^application\/json\s*(?:;|$)/i.test(c.req.header('content-type') ?? '')) return errorResponse(c, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json');
    const address = requestAddress(c, hops);
    const now = clock();
    // H1: only created spaces spend the quota; a refused request is checked but not charged.
    if (!creates.allows(address, now)) return errorResponse(c, 'RATE_LIMITED', `at most ${createsPerHour} spaces per hour from one address`, creates.msUntilToken(address, now));
    const read = await readJsonBody(c, '{"name": "...", "capacity"?: n, "ttlSeconds"?: n}');
    if (read instanceof Response) return read;
    const parsed = v.safeParse(CreateSpaceSchema, read.body);
    if (!parsed.success) {
      const i = parsed.issues[0];
      const path = i?.path?.map((p) => String(p.key)).join('.');
      return errorResponse(c, 'BAD_REQUEST', path ? `${path}: ${i?.message}` : (i?.message ?? 'invalid body'));
    }
    // Take the token before the await, so concurrent creates cannot overshoot; give it back if
    // the service refuses.
    if (!creates.take(address, now)) return errorResponse(c, 'RATE_LIMITED', `at most ${createsPerHour} spaces per hour from one address`, creates.msUntilToken(address, now));
    let r: Awaited<ReturnType<SpaceHost['createSpace']>>;
    try {
      r = await svc.createSpace(parsed.output);
    } catch (e) {
      creates.refund(address, clock());
      throw e;
    }
    if (!r.ok) {
      creates.refund(address, clock());
      return errorResponse(c, r.code, r.message);
    }
    const { space, stewardToken } = r.value;
    // The steward's address knows this code: joins from the venue never wait for it (W13).
    throttle.record(address, space.code, 'found', clock());
    return c.json({ id: space.id, ...pub(space), ...spaceLinks(o.publicUrl(c), space.code), stewardToken }, 201);
  });

  app.get('/api/templates', (c) => c.json({ templates: (o.templates ?? []).map((t) => t.json) }));

  app.get('/api/spaces', async (c) => {
    if (!o.isAdmin(bearer(c))) return errorResponse(c, 'UNAUTHORIZED', 'listing spaces needs the admin token (see data/admin-token)');
    const spaces = await svc.listSpaces();
    return c.json({ spaces: spaces.map((s) => ({ id: s.id, ...pub(s), ...spaceLinks(o.publicUrl(c), s.code) })) });
  });

  // W13: looking a code up over HTTP is a guess like a join; it waits for the same budget.
  const withSpace = async (c: Context): Promise<SpaceRecord | Response> => {
    const code = normaliseCode(c.req.param('code') ?? '');
    const address = requestAddress(c, hops);
    const d = await awaitAdmission(throttle, address, code, { now: clock, sleep: (ms) => sleepUnlessAborted(ms, c.req.raw.signal) });
    if (d.kind === 'refuse') return errorResponse(c, 'RATE_LIMITED', 'too many new join codes tried from your address; check the code and try again later', d.retryAfterMs);
    if (d.kind === 'gone') return errorResponse(c, 'UNAVAILABLE', 'the request was abandoned');
    if (d.kind === 'known-bad') return errorResponse(c, 'NOT_FOUND', 'no space has that join code');
    let space: SpaceRecord | null;
    try {
      space = await svc.spaceByCode(code);
    } catch (e) {
      throttle.record(address, code, 'error', clock());
      throw e;
    }
    throttle.record(address, code, space ? 'found' : 'not-found', clock());
    return space ?? errorResponse(c, 'NOT_FOUND', 'no space has that join code');
  };

  app.get('/api/spaces/:code', async (c) => {
    const s = await withSpace(c);
    if (s instanceof Response) return s;
    return c.json({ ...pub(s), ...spaceLinks(o.publicUrl(c), s.code) });
  });

  app.post('/api/spaces/:code/close', async (c) => {
    const s = await withSpace(c);
    if (s instanceof Response) return s;
    const r = await svc.closeSpace(c.req.param('code'), bearer(c));
    if (!r.ok) return errorResponse(c, r.code, r.message);
    return c.json(pub(r.value));
  });

  app.post('/api/spaces/:code/steward-token', async (c) => {
    const s = await withSpace(c);
    if (s instanceof Response) return s;
    const r = await svc.rotateStewardToken(c.req.param('code'), bearer(c));
    if (!r.ok) return errorResponse(c, r.code, r.message);
    return c.json({ stewardToken: r.value });
  });

  // Linking spaces (docs/bridging.md): each steward agrees; the act is on the public log first.
  app.post('/api/spaces/:code/links', async (c) => {
    const s = await withSpace(c);
    if (s instanceof Response) return s;
    const read = await readJsonBody(c, '{"with": "CODE", "agree"?: bool}');
    if (read instanceof Response) return read;
    const parsed = v.safeParse(LinkSchema, read.body);
    if (!parsed.success) return errorResponse(c, 'BAD_REQUEST', parsed.issues[0]?.message ?? 'invalid body');
    const r = await svc.link(c.req.param('code'), bearer(c), parsed.output.with, parsed.output.agree);
    if (!r.ok) return errorResponse(c, r.code, r.message);
    return c.json(r.value);
  });

  app.get('/api/spaces/:code/links', async (c) => {
    const s = await withSpace(c);
    if (s instanceof Response) return s;
    return c.json({ space: s.code, linked: svc.linksOf(s.id) });
  });

  // The compare view's data (H15): linked spaces' released pulses side by side, their bridging,
  // and each one's published DP series (R8) for the histories — a release once made is public and
  // is served again from the store at no privacy cost; null while its steward has made none.
  app.get('/api/compare', async (c) => {
    const codes = (c.req.query('spaces') ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0);
    if (codes.length < 2 || codes.length > 8) return errorResponse(c, 'BAD_REQUEST', 'spaces must name 2 to 8 linked spaces: ?spaces=CODE,CODE');
    const address = requestAddress(c, hops);
    const ids = new Map<string, string>();
    for (const code of codes) {
      const norm = normaliseCode(code);
      const d = await awaitAdmission(throttle, address, norm, { now: clock, sleep: (ms) => sleepUnlessAborted(ms, c.req.raw.signal) });
      if (d.kind !== 'evaluate') return errorResponse(c, d.kind === 'refuse' ? 'RATE_LIMITED' : 'NOT_FOUND', 'too many codes tried, or an unknown code');
      const found = await svc.spaceByCode(norm);
      if (found) ids.set(found.code, found.id);
      throttle.record(address, norm, found ? 'found' : 'not-found', clock());
    }
    const r = svc.compare(codes);
    if (!r.ok) return errorResponse(c, r.code, r.message);
    const releasedSeries = o.releasedSeries;
    const spaces = await Promise.all(
      r.value.spaces.map(async (s) => {
        const id = ids.get(s.code);
        const series = releasedSeries && id ? await releasedSeries(id) : null;
        return { ...s, series: series ? { n: series.n, at: series.at, params: series.params, rho: series.rho, sigma: series.sigma, points: series.points } : null };
      }),
    );
    c.header('cache-control', 'no-store');
    return c.json({ ...r.value, spaces });
  });

  app.get('/api/spaces/:code/pulse', async (c) => {
    const s = await withSpace(c);
    if (s instanceof Response) return s;
    // H5: the last published pulse, exactly as sockets got it; a read never steps the machine.
    const bytes = svc.latestPulse(s.id);
    if (!bytes) return errorResponse(c, 'SPACE_CLOSED', 'this space has closed');
    c.header('cache-control', 'no-store');
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/json' });
  });

  // GET …/series (H6) is a differentially private release: src/http/privacyRoutes.ts (R8).

  // GET …/contagion (H10) is a differentially private release too: src/http/privacyRoutes.ts (R8).

  app.get('/api/spaces/:code/qr.svg', async (c) => {
    const s = await withSpace(c);
    if (s instanceof Response) return s;
    const svg = await QRCode.toString(spaceLinks(o.publicUrl(c), s.code).joinUrl, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
    return c.body(svg, 200, { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=3600' });
  });

  app.get('/api/spaces/:code/qr.png', async (c) => {
    const s = await withSpace(c);
    if (s instanceof Response) return s;
    const png = await QRCode.toBuffer(spaceLinks(o.publicUrl(c), s.code).joinUrl, { type: 'png', margin: 2, scale: 8, errorCorrectionLevel: 'M' });
    return c.body(new Uint8Array(png), 200, { 'content-type': 'image/png', 'cache-control': 'public, max-age=3600' });
  });

  for (const routes of o.spaceRoutes ?? []) app.route('/api/spaces', routes(withSpace));
  for (const routes of o.apiRoutes ?? []) app.route('/', routes);

  app.all('/api/*', (c) => errorResponse(c, 'NOT_FOUND', `no API route ${c.req.method} ${new URL(c.req.url).pathname}`));

  for (const m of o.mounts ?? []) app.route(m.path, m.app);

  if (o.webRoot) {
    const root = o.webRoot;
    const page = (file: string) => {
      const path = join(root, file);
      return (c: Context) => {
        if (!existsSync(path)) return c.text('web app not built: run `npm run build:web`', 503);
        return c.html(readFileSync(path, 'utf8'));
      };
    };
    app.get('/', page('index.html'));
    app.get('/j/:code', page('join.html'));
    app.get('/d/:code', page('display.html'));
    app.get('/s/:code', page('steward.html'));
    app.get('/audit', page('audit.html'));
    app.get('/compare', page('compare.html'));
    app.get('/c/:code', page('council.html'));
    app.use('/assets/*', serveStatic({ root, onFound: (_p, c) => c.header('cache-control', 'public, max-age=31536000, immutable') }));
    app.use('/*', serveStatic({ root }));
  }
  app.notFound((c) => errorResponse(c, 'NOT_FOUND', 'not found'));
  return app;
}
