/**
 * The HTTP API (SPEC.md §H), in process with `app.request()`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../src/bus/local/localBus.ts';
import { createApp } from '../src/http/app.ts';
import { SpaceService } from '../src/space/spaceService.ts';
import { MemoryGovernance } from '../src/server/startServer.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';

let service: SpaceService;
let governance: MemoryGovernance;
let app: ReturnType<typeof createApp>;

beforeEach(async () => {
  governance = new MemoryGovernance();
  service = new SpaceService({ storage: new MemoryStorage(), bus: new LocalBus(), governance, minCohort: 1 });
  await service.start();
  app = createApp({ service, publicUrl: () => 'http://attune.test', isAdmin: (t) => t === 'admin-secret', webRoot: null });
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
    const limited = createApp({ service, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, createsPerHour: 2 });
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

  it('[H6] serves the time series as JSON and CSV, and validates the query', async () => {
    const s = await create();
    const join = await service.join(s.code as string, 'participant', true);
    if (!join.ok) throw new Error(join.message);
    await service.input(join.value, { t: 'input', seq: 1, valence: 0.5, arousal: 0.5, confidence: 1, source: 'tap' }, false);
    const rt = service.runtime(join.value.spaceId);
    rt?.tick(true);
    await service.stop(); // flushes the series buffer
    const j = await app.request(`/api/spaces/${s.code}/series`);
    const points = ((await j.json()) as { points: { count: number; valence: number }[] }).points;
    expect(points.length).toBeGreaterThanOrEqual(1);
    expect(points[0]).toMatchObject({ count: 1, valence: 0.5 });
    const csv = await (await app.request(`/api/spaces/${s.code}/series?format=csv`)).text();
    expect(csv.split('\r\n')[0]).toBe('at,count,valence,arousal,spread_valence,spread_arousal,pleasant_energised,pleasant_calm,unpleasant_calm,unpleasant_energised');
    expect(csv.split('\r\n')[1]).toMatch(/^\d+,1,0\.500000,0\.500000,/);
    expect((await app.request(`/api/spaces/${s.code}/series?from=yesterday`)).status).toBe(400);
    expect((await app.request(`/api/spaces/${s.code}/series?format=xml`)).status).toBe(400);
  });

  it('[H7] renders the join QR code as SVG and PNG', async () => {
    const s = await create();
    const svg = await app.request(`/api/spaces/${s.code}/qr.svg`);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(await svg.text()).toMatch(/^<svg/);
    const png = new Uint8Array(await (await app.request(`/api/spaces/${s.code}/qr.png`)).arrayBuffer());
    expect([...png.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('[H10] computes the contagion index for the steward only, and only over enough people', async () => {
    const s = await create();
    const code = s.code as string;
    expect((await app.request(`/api/spaces/${code}/contagion`)).status).toBe(401);
    const auth = { headers: { authorization: `Bearer ${s.stewardToken}` } };
    const few = await app.request(`/api/spaces/${code}/contagion`, auth);
    expect(few.status).toBe(400);
    expect(((await few.json()) as { error: { message: string } }).error.message).toMatch(/at least 5 people/);
    // Eight people, three inputs each; half of them see the pulse and move toward it.
    for (let p = 0; p < 8; p++) {
      const j = await service.join(code, 'participant', true);
      if (!j.ok) throw new Error(j.message);
      for (let k = 1; k <= 3; k++) {
        const toward = p % 2 === 0;
        const v = toward ? 0.8 - 0.3 * k : -0.6 + 0.05 * k * (p % 3 === 0 ? 1 : -1);
        await service.input(j.value, { t: 'input', seq: k, valence: v, arousal: 0.1 * (p - 4) / 4, confidence: 1, source: 'tap' }, toward);
        service.runtime(j.value.spaceId)?.tick(true);
      }
    }
    const r = await app.request(`/api/spaces/${code}/contagion`, auth);
    expect(r.status).toBe(200);
    const c = (await r.json()) as { index: number | null; lower: number | null; upper: number | null; inputs: number; method: string };
    expect(c.inputs).toBe(24);
    expect(c.method).toBe('participant-cluster percentile bootstrap');
    expect(c.index).not.toBeNull();
    expect((c.lower as number) <= (c.index as number) && (c.index as number) <= (c.upper as number)).toBe(true);
  });

  it('[E1] unknown API routes get a coded 404', async () => {
    const r = await app.request('/api/nothing');
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
