/**
 * DP releases with a published budget (SPEC R8, H6, H16, H17), on the real server with a manual
 * scheduler: the budget and every release are public, a release is on the public log before it
 * is answered, the same query is answered again without spending, and a release past the budget
 * is refused with a coded error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, MemoryGovernance, type RunningServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import type { ConnSink } from '../src/space/spaceHost.ts';

let server: RunningServer;
let scheduler: ManualScheduler;
let governance: MemoryGovernance;
let code: string;
let token: string;

const post = (path: string, body: unknown, auth?: string) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(body) });

beforeAll(async () => {
  scheduler = new ManualScheduler();
  governance = new MemoryGovernance();
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 3, privacyBudget: 0.3 }, { scheduler, governance });
  const made = await server.host.createSpace({ name: 'budgeted' });
  if (!made.ok) throw new Error(made.message);
  code = made.value.space.code;
  token = made.value.stewardToken;
  const host = server.host;
  for (let i = 0; i < 12; i++) {
    const sink: ConnSink = { send: () => {}, close: () => {}, welcomed: () => {} };
    const ref = host.attach(sink);
    const j = await host.join(ref, code, 'participant', true);
    if (!j.ok) throw new Error(j.message);
    await host.drain();
    for (let k = 1; k <= 3; k++) {
      host.input(ref, { t: 'input', seq: k, valence: i % 2 ? 0.6 : -0.4, arousal: 0.3, confidence: 1, source: 'tap' }, true);
      scheduler.advance(10_000);
      await host.drain();
    }
  }
});

afterAll(async () => {
  await server?.close();
});

describe('DP releases and the published budget (R8)', () => {
  it('[H16][R8] the budget is public: ρ, ε at δ = 1e-6, nothing spent, no release yet; the series is 404 until one is made', async () => {
    const r = await fetch(`${server.url}/api/spaces/${code}/privacy`);
    expect(r.status).toBe(200);
    const p = (await r.json()) as { budget: { rho: number; epsilon: number }; spent: { rho: number }; releases: unknown[]; unit: string; minCohort: number; live: { batch: number } };
    expect(p).toMatchObject({ unit: 'participant', budget: { rho: 0.3 }, spent: { rho: 0 }, releases: [], minCohort: 3, live: { batch: 3 } });
    expect(p.budget.epsilon).toBeCloseTo(0.3 + 2 * Math.sqrt(0.3 * Math.log(1e6)), 9);
    expect((await fetch(`${server.url}/api/spaces/${code}/series`)).status).toBe(404);
  });

  it('[H17][R8] a steward releases a series: logged first as privacy.release, answered with noisy windows; again = same figures, nothing spent', async () => {
    expect((await post(`/api/spaces/${code}/privacy/releases`, { what: 'series', rho: 0.2 })).status).toBe(401);
    expect((await post(`/api/spaces/${code}/privacy/releases`, { what: 'series', rho: -1 }, token)).status).toBe(400);
    const body = { what: 'series', bucketSeconds: 120, rho: 0.2 };
    const r = await post(`/api/spaces/${code}/privacy/releases`, body, token);
    expect(r.status).toBe(201);
    const rel = (await r.json()) as { n: number; rho: number; spent: boolean; sigma: number; points: { count: number | null }[] };
    expect(rel).toMatchObject({ n: 1, rho: 0.2, spent: true });
    expect(rel.points.length).toBeGreaterThan(0);
    expect(rel.sigma).toBeGreaterThan(0);
    const act = governance.acts.find((a) => a.type === 'privacy.release');
    expect(act?.payload).toMatchObject({ n: 1, what: 'series', rho: 0.2, spentRho: 0.2, budgetRho: 0.3, bucketMs: 120_000 });
    // No feeling, no participant on the log.
    expect(JSON.stringify(act)).not.toMatch(/valence|arousal|participant/);
    const again = await post(`/api/spaces/${code}/privacy/releases`, body, token);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { points: unknown }).points).toEqual(rel.points);
    expect(governance.acts.filter((a) => a.type === 'privacy.release')).toHaveLength(1);
    const published = (await (await fetch(`${server.url}/api/spaces/${code}/series`)).json()) as { n: number; points: unknown };
    expect(published).toMatchObject({ n: 1, points: rel.points });
    const csv = await (await fetch(`${server.url}/api/spaces/${code}/series?format=csv&release=1`)).text();
    expect(csv.split('\r\n')[0]).toBe('at,count,valence,arousal,pleasant_energised,pleasant_calm,unpleasant_calm,unpleasant_energised');
  });

  it('[R8] a release past the budget is refused with PRIVACY_BUDGET_EXHAUSTED and spends nothing; the ledger is published', async () => {
    const r = await post(`/api/spaces/${code}/privacy/releases`, { what: 'series', bucketSeconds: 60, rho: 0.2 }, token);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('PRIVACY_BUDGET_EXHAUSTED');
    const p = (await (await fetch(`${server.url}/api/spaces/${code}/privacy`)).json()) as { spent: { rho: number }; remaining: { rho: number }; releases: { n: number; what: string; rho: number }[] };
    expect(p.spent.rho).toBe(0.2);
    expect(p.remaining.rho).toBeCloseTo(0.1, 9);
    expect(p.releases).toMatchObject([{ n: 1, what: 'series', rho: 0.2 }]);
    const small = await post(`/api/spaces/${code}/privacy/releases`, { what: 'series', bucketSeconds: 60, rho: 0.1 }, token);
    expect(small.status).toBe(201);
    expect((await post(`/api/spaces/${code}/privacy/releases`, { what: 'series', bucketSeconds: 30, rho: 0.000001 }, token)).status).toBe(403);
  });

  it('[H15][R8] the compare view serves each linked space’s published DP series (none: null) from the store, spending nothing', async () => {
    const other = await server.host.createSpace({ name: 'unreleased' });
    if (!other.ok) throw new Error(other.message);
    const b = other.value;
    expect((await post(`/api/spaces/${code}/links`, { with: b.space.code }, token)).status).toBe(200);
    expect((await post(`/api/spaces/${b.space.code}/links`, { with: code }, b.stewardToken)).status).toBe(200);
    const before = (await (await fetch(`${server.url}/api/spaces/${code}/privacy`)).json()) as { spent: { rho: number }; releases: unknown[] };
    const logged = governance.acts.length;
    const r = await fetch(`${server.url}/api/compare?spaces=${code},${b.space.code}`);
    expect(r.status).toBe(200);
    const j = (await r.json()) as { spaces: { code: string; series: { n: number; params: { bucketMs: number }; sigma: number; points: unknown[] } | null }[] };
    const latest = (await (await fetch(`${server.url}/api/spaces/${code}/series`)).json()) as { n: number; params: unknown; sigma: number; points: unknown[] };
    expect(j.spaces[0]?.code).toBe(code);
    expect(j.spaces[0]?.series).toEqual({ n: latest.n, at: expect.any(Number), params: latest.params, rho: expect.any(Number), sigma: latest.sigma, points: latest.points });
    expect(j.spaces[1]).toMatchObject({ code: b.space.code, series: null });
    // Served again, not released again: no budget, no log entry.
    const after = (await (await fetch(`${server.url}/api/spaces/${code}/privacy`)).json()) as { spent: { rho: number }; releases: unknown[] };
    expect(after.spent.rho).toBe(before.spent.rho);
    expect(after.releases).toHaveLength(before.releases.length);
    expect(governance.acts.slice(logged).filter((a) => a.type === 'privacy.release')).toEqual([]);
  });
});
