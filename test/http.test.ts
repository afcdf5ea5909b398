/**
 * The HTTP API (SPEC.md §H), in process with `app.request()`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../src/bus/local/localBus.ts';
import { JoinThrottle } from '../src/core/joinThrottle.ts';
import { createApp } from '../src/http/app.ts';
import { MemoryGovernance } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { SpaceHost } from '../src/space/spaceHost.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';

let service: SpaceHost;
let governance: MemoryGovernance;
let scheduler: ManualScheduler;
let app: ReturnType<typeof createApp>;

function hostWith(minCohort: number): SpaceHost {
  return new SpaceHost({ storage: new MemoryStorage(), bus: new LocalBus(), governance, scheduler, machine: { release: { minCohort } } });
}

beforeEach(async () => {
  governance = new MemoryGovernance();
  scheduler = new ManualScheduler();
  service = hostWith(1);
  await service.start();
  app = createApp({ host: service, publicUrl: () => 'http://attune.test', isAdmin: (t) => t === 'admin-secret', webRoot: null, clock: () => scheduler.now() });
});

afterEach(async () => {
  await service.stop();
});

const post = (path: string, body?: unknown, token?: string) =>
  app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

async function create(name = 'Town hall'): Promise<Record<string, string>> {
  const r = await post('/api/spaces', { name });
  expect(r.status).toBe(201);
  return (await r.json()) as Record<string, string>;
}

describe('HTTP API', () => {
  it('[H1] creates a space with a short code, links, QR URLs and a steward token, and logs it', async () => {
    const s = await create();
    expect(s.code).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
    expect(s.joinUrl).toBe(`http://attune.test/j/${s.code}`);
    expect(s.displayUrl).toBe(`http://attune.test/d/${s.code}`);
    expect(s.qrSvgUrl).toContain('/qr.svg');
    expect(s.stewardToken?.length).toBeGreaterThanOrEqual(40);
    expect(governance.acts.map((a) => a.type)).toEqual(['space.created']);
    expect(JSON.stringify(governance.acts)).not.toContain(s.stewardToken);
  });

  it('[H1][E1] rejects bad bodies with coded errors', async () => {
    for (const [body, re] of [
      ['{', /JSON/],
      [{}, /name/],
      [{ name: '' }, /name/],
      [{ name: 'x', capacity: 0 }, /capacity/],
      [{ name: 'x', capacity: 1.5 }, /capacity/],
      [{ name: 'x', extra: 1 }, /extra|key/i],
      [{ name: 'x', ttlSeconds: 1 }, /ttlSeconds/],
    ] as const) {
      const r = await post('/api/spaces', body);
      expect(r.status).toBe(400);
      const j = (await r.json()) as { error: { code: string; message: string } };
      expect(j.error.code).toBe('BAD_REQUEST');
      expect(j.error.message).toMatch(re);
    }
  });

  it('[H1] limits how many spaces one address creates per hour', async () => {
    const limited = createApp({ host: service, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, createsPerHour: 2 });
    const make = () => limited.request('/api/spaces', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x' }) });
    expect((await make()).status).toBe(201);
    expect((await make()).status).toBe(201);
    const third = await make();
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
  });

  it('[H1] rejects an oversized body with 413 TOO_LARGE', async () => {
    const r = await post('/api/spaces', { name: 'x'.repeat(40_000) });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('TOO_LARGE');
  });

  it('[H2] gives public info by code, case- and dash-insensitively; 404 for an unknown code', async () => {
    const s = await create();
    const lower = `${s.code?.slice(0, 4)}-${s.code?.slice(4)}`.toLowerCase();
    const r = await app.request(`/api/spaces/${lower}`);
    expect(r.status).toBe(200);
    const j = (await r.json()) as Record<string, unknown>;
    expect(j).toMatchObject({ code: s.code, name: 'Town hall', status: 'open', present: 0 });
    expect(j.stewardToken).toBeUndefined();
    const n = await app.request('/api/spaces/ZZZZZZZZ');
    expect(n.status).toBe(404);
  });

  it('[H3][H4] steward endpoints need the steward token; rotation retires the old token', async () => {
    const s = await create();
    expect((await post(`/api/spaces/${s.code}/close`)).status).toBe(401);
    expect((await post(`/api/spaces/${s.code}/close`, undefined, 'wrong')).status).toBe(401);
    const rot = await post(`/api/spaces/${s.code}/steward-token`, undefined, s.stewardToken);
    expect(rot.status).toBe(200);
    const fresh = ((await rot.json()) as { stewardToken: string }).stewardToken;
    expect((await post(`/api/spaces/${s.code}/close`, undefined, s.stewardToken)).status).toBe(401);
    const closed = await post(`/api/spaces/${s.code}/close`, undefined, fresh);
    expect(closed.status).toBe(200);
    expect(((await closed.json()) as { status: string }).status).toBe('closed');
    expect((await post(`/api/spaces/${s.code}/close`, undefined, fresh)).status).toBe(410);
    expect(governance.acts.map((a) => a.type)).toEqual(['space.created', 'steward.changed', 'space.closed']);
  });

  it('[H8] lists spaces only with the admin token', async () => {
    await create('a');
    await create('b');
    expect((await app.request('/api/spaces')).status).toBe(401);
    const r = await app.request('/api/spaces', { headers: { authorization: 'Bearer admin-secret' } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { spaces: unknown[] }).spaces).toHaveLength(2);
  });

  it('[H5] serves the latest pulse as JSON', async () => {
    const s = await create();
    const r = await app.request(`/api/spaces/${s.code}/pulse`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ t: 'pulse', count: 0, space: s.code });
  });

  it('[H7] renders the join QR code as SVG and PNG', async () => {
    const s = await create();
    const svg = await app.request(`/api/spaces/${s.code}/qr.svg`);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(await svg.text()).toMatch(/^<svg/);
    const png = new Uint8Array(await (await app.request(`/api/spaces/${s.code}/qr.png`)).arrayBuffer());
    expect([...png.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('[E1] unknown API routes get a coded 404', async () => {
    const r = await app.request('/api/nothing');
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});

const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; message: string } }).error;

describe('HTTP hardening', () => {
  it('[H1] only created spaces spend the creation quota; a 429 says when to retry', async () => {
    const limited = createApp({ host: service, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, createsPerHour: 60 });
    const make = (body: string) => limited.request('/api/spaces', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    for (let i = 0; i < 60; i++) expect((await make(i % 2 ? '{' : '{"name":""}')).status).toBe(400);
    for (let i = 0; i < 60; i++) expect((await make('{"name":"ok"}')).status).toBe(201);
    const over = await make('{"name":"ok"}');
    expect(over.status).toBe(429);
    expect((await errorOf(over)).code).toBe('RATE_LIMITED');
    // One space an hour refills per minute: retry in about a minute, in whole seconds.
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('[H1] creating a space needs Content-Type: application/json (415 otherwise)', async () => {
    const body = JSON.stringify({ name: 'x' });
    for (const headers of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'multipart/form-data; boundary=x' }, { 'content-type': 'application/jsonp' }] as Record<string, string>[]) {
      const r = await app.request('/api/spaces', { method: 'POST', headers, body });
      expect(r.status).toBe(415);
      expect((await errorOf(r)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect((await app.request('/api/spaces', { method: 'POST', headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body })).status).toBe(201);
  });

  it('[H1] every JSON body is read one way: 415 without the JSON content type, 400 naming the shape for bad JSON', async () => {
    const made = await post('/api/spaces', { name: 'links' });
    const { code, stewardToken } = (await made.json()) as { code: string; stewardToken: string };
    const auth = { authorization: `Bearer ${stewardToken}` };
    const plain = await app.request(`/api/spaces/${code}/links`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: JSON.stringify({ with: 'ABCDEF' }) });
    expect(plain.status).toBe(415);
    expect((await errorOf(plain)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const bad = await app.request(`/api/spaces/${code}/links`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"with":' });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toBe('body must be JSON: {"with": "CODE", "agree"?: bool}');
    const space = await app.request('/api/spaces', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'nope' });
    expect(space.status).toBe(400);
    expect((await errorOf(space)).message).toMatch(/^body must be JSON: \{"name"/);
  });

  it('[H1] names count user-perceived characters and refuse control and bidi characters', async () => {
    expect((await post('/api/spaces', { name: '🎉'.repeat(80) })).status).toBe(201);
    const long = await post('/api/spaces', { name: '🎉'.repeat(81) });
    expect(long.status).toBe(400);
    expect((await errorOf(long)).message).toBe('name: name must be at most 80 characters (it has 81)');
    for (const [name, re] of [
      ['a\u0000b', /control character U\+0000/],
      ['a\u001bb', /control character U\+001B/],
      ['invoice\u202Efdp.exe', /direction control U\+202E/],
      ['x\u2067y', /direction control U\+2067/],
    ] as const) {
      const r = await post('/api/spaces', { name });
      expect(r.status).toBe(400);
      expect((await errorOf(r)).message).toMatch(re);
    }
    expect(governance.acts.filter((a) => a.type === 'space.created')).toHaveLength(1);
  });

  it('[H4] the steward token of a closed space cannot be rotated (410)', async () => {
    const s = await create();
    expect((await post(`/api/spaces/${s.code}/close`, undefined, s.stewardToken)).status).toBe(200);
    const r = await post(`/api/spaces/${s.code}/steward-token`, undefined, s.stewardToken);
    expect(r.status).toBe(410);
    expect((await errorOf(r)).code).toBe('SPACE_CLOSED');
    expect(governance.acts.map((a) => a.type)).toEqual(['space.created', 'space.closed']);
  });

  it('[H11] refuses state-changing requests from other sites; same-origin pages, the public URL and non-browsers pass', async () => {
    const body = JSON.stringify({ name: 'x' });
    const req = (headers: Record<string, string>, path = '/api/spaces') => app.request(`http://attune.local:8787${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    for (const h of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site', origin: 'https://sub.attune.local' }, { origin: 'null' }, { host: 'attune.local:8787', origin: 'http://attune.local:9999' }] as Record<string, string>[]) {
      const r = await req(h);
      expect(r.status).toBe(403);
      expect((await errorOf(r)).code).toBe('CROSS_ORIGIN');
    }
    const s = await create();
    expect((await req({ origin: 'https://evil.example' }, `/api/spaces/${s.code}/close`)).status).toBe(403);
    for (const h of [{}, { 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, { host: 'attune.local:8787', origin: 'http://attune.local:8787' }, { origin: 'http://attune.test' }] as Record<string, string>[]) expect((await req(h)).status).toBe(201);
    // Reads change nothing and stay open to everyone (displays embed QR codes, scripts read pulses).
    expect((await app.request(`/api/spaces/${s.code}`, { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
  });

  it('[H12] every API response, errors included, carries the security headers', async () => {
    for (const r of [await app.request('/healthz'), await app.request('/api/nothing'), await post('/api/spaces', '{')]) {
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(r.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
      expect(r.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('[H12] pages get a strict CSP; only displays may be framed; HSTS only over TLS', async () => {
    const root = mkdtempSync(join(tmpdir(), 'attune-web-'));
    try {
      for (const f of ['index.html', 'join.html', 'display.html', 'steward.html', 'audit.html']) writeFileSync(join(root, f), `<!doctype html><title>${f}</title>`);
      const web = createApp({ host: service, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: root, trustProxyHops: 1 });
      for (const path of ['/', '/j/K7Q4MZ9P', '/s/K7Q4MZ9P', '/audit', '/d/K7Q4MZ9P']) {
        const r = await web.request(`http://attune.test${path}`, { headers: { host: 'attune.test' } });
        expect(r.status).toBe(200);
        const csp = r.headers.get('content-security-policy') ?? '';
        expect(csp).toContain("script-src 'self'");
        expect(csp).toContain("style-src 'self'");
        expect(csp).toContain("object-src 'none'");
        expect(csp).toContain("connect-src 'self' ws://attune.test wss://attune.test");
        expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
        if (path.startsWith('/d/')) {
          expect(csp).not.toContain('frame-ancestors');
          expect(r.headers.get('x-frame-options')).toBeNull();
        } else {
          expect(csp).toContain("frame-ancestors 'none'");
          expect(r.headers.get('x-frame-options')).toBe('DENY');
        }
        expect(r.headers.get('strict-transport-security')).toBeNull();
      }
      const tls = await web.request('http://attune.test/audit', { headers: { host: 'attune.test', 'x-forwarded-proto': 'https' } });
      expect(tls.headers.get('strict-transport-security')).toBe('max-age=31536000');
      // A Host header that could smuggle directives is left out of the policy.
      const odd = await web.request('http://attune.test/', { headers: { host: "x; script-src 'unsafe-inline'" } });
      expect(odd.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('[H13] behind --trust-proxy each client has its own quota; without it X-Forwarded-For is ignored', async () => {
    const make = (a: ReturnType<typeof createApp>, xff: string) => a.request('/api/spaces', { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': xff }, body: '{"name":"x"}' });
    const proxied = createApp({ host: service, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, createsPerHour: 1, trustProxyHops: 1 });
    expect((await make(proxied, '198.51.100.1')).status).toBe(201);
    expect((await make(proxied, '198.51.100.2')).status).toBe(201);
    expect((await make(proxied, '6.6.6.6, 198.51.100.1')).status).toBe(429); // a forged first hop does not help
    const direct = createApp({ host: service, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, createsPerHour: 1 });
    expect((await make(direct, '198.51.100.1')).status).toBe(201);
    expect((await make(direct, '198.51.100.2')).status).toBe(429);
  });

  it('[W13] looking codes up over HTTP spends the join-guessing budget; a code created from the address never waits', async () => {
    const throttle = new JoinThrottle({ freeGuesses: 3, guessesPerMinute: 1 });
    const gated = createApp({ host: service, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, joinThrottle: throttle });
    const made = await gated.request('/api/spaces', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"venue"}' });
    const { code } = (await made.json()) as { code: string };
    for (const wrong of ['AAAA2222', 'BBBB3333', 'CCCC4444']) expect((await gated.request(`/api/spaces/${wrong}`)).status).toBe(404);
    expect((await gated.request(`/api/spaces/${code}`)).status).toBe(200);
    expect((await gated.request(`/api/spaces/${code}/qr.svg`)).status).toBe(200);
    expect((await gated.request('/api/spaces/aaaa-2222')).status).toBe(404); // the same wrong code: answered at once
    // A new code waits for a token; a client that gives up leaves no place held.
    const abort = new AbortController();
    const waiting = gated.request('/api/spaces/DDDD5555', { signal: abort.signal });
    await new Promise((r) => setImmediate(r));
    expect(throttle.inspect('local')?.waiting).toBe(1);
    abort.abort();
    expect((await waiting).status).toBe(503);
    expect(throttle.inspect('local')?.waiting).toBe(0);
  });
});
