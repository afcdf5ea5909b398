/**
 * The contagion index is a DP release (SPEC H10, H17, R8) on the real server with the manual
 * scheduler: only the steward makes one, it spends the space's budget, it is on the public log
 * (through the space machine) before it is answered, it is published (`GET …/contagion`) and
 * asked again spends nothing; too few people withhold it; past the budget it is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, MemoryGovernance, type RunningServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import type { ConnSink } from '../src/space/spaceHost.ts';

let server: RunningServer;
let scheduler: ManualScheduler;
let governance: MemoryGovernance;

const post = (path: string, body: unknown, auth?: string) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(body) });

/** A space where `people` join; the even ones see the pulse and move toward it, the odd ones do not. */
async function room(people: number): Promise<{ code: string; token: string }> {
  const made = await server.host.createSpace({ name: `contagion ${people}` });
  if (!made.ok) throw new Error(made.message);
  const code = made.value.space.code;
  for (let p = 0; p < people; p++) {
    const sink: ConnSink = { send: () => {}, close: () => {}, welcomed: () => {} };
    const ref = server.host.attach(sink);
    const j = await server.host.join(ref, code, 'participant', true);
    if (!j.ok) throw new Error(j.message);
    await server.host.drain();
    for (let k = 1; k <= 4; k++) {
      const toward = p % 2 === 0;
      const v = toward ? -0.9 + 0.25 * k : -0.9 + 0.05 * k * (p % 3 === 0 ? 1 : -1);
      server.host.input(ref, { t: 'input', seq: k, valence: v, arousal: -0.5 + 0.05 * p, confidence: 1, source: 'tap' }, toward);
      scheduler.advance(3_000);
      await server.host.drain();
    }
  }
  return { code, token: made.value.stewardToken };
}

beforeAll(async () => {
  scheduler = new ManualScheduler();
  governance = new MemoryGovernance();
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 3, privacyBudget: 6, liveRelease: false }, { scheduler, governance });
});

afterAll(async () => {
  await server?.close();
});

describe('the contagion index as a DP release', () => {
  it('[H10][H17][R8] the steward releases it: logged as privacy.release first, published, spends ρ once', async () => {
    const { code, token } = await room(24);
    expect((await fetch(`${server.url}/api/spaces/${code}/contagion`)).status).toBe(404);
    expect((await post(`/api/spaces/${code}/privacy/releases`, { what: 'contagion' })).status).toBe(401);
    expect((await post(`/api/spaces/${code}/privacy/releases`, { what: 'contagion', bucketSeconds: 60 }, token)).status).toBe(400);
    const r = await post(`/api/spaces/${code}/privacy/releases`, { what: 'contagion', rho: 2 }, token);
    expect(r.status).toBe(201);
    const rel = (await r.json()) as { n: number; what: string; rho: number; spent: boolean; index: number | null; exposedPull: number; unexposedPull: number; exposedPeople: number; unexposedPeople: number; sigma: number; noiseSd: number; withheld: boolean; method: string };
    expect(rel).toMatchObject({ n: 1, what: 'contagion', rho: 2, spent: true, withheld: false, method: 'zCDP discrete Gaussian over per-participant mean pulls' });
    // σ² = 4/(2ρ) = 1 person per count.
    expect(rel.sigma).toBeCloseTo(1, 9);
    // 12 exposed movers, 12 unexposed: the noisy counts are near, the index shows the exposed moving toward the pulse more.
    expect(Math.abs(rel.exposedPeople - 12)).toBeLessThanOrEqual(5);
    expect(Math.abs(rel.unexposedPeople - 12)).toBeLessThanOrEqual(5);
    expect(rel.index).not.toBeNull();
    expect(rel.noiseSd).toBeGreaterThan(0);
    // Before it was answered, the public log had it — with the budget's figures only.
    const act = governance.acts.find((a) => a.type === 'privacy.release' && a.payload.what === 'contagion');
    expect(act?.payload).toMatchObject({ n: 1, what: 'contagion', rho: 2, spentRho: 2, budgetRho: 6 });
    expect(JSON.stringify(act)).not.toMatch(/valence|arousal|participant|pull/);
    // Published, and the same period again spends nothing.
    const published = (await (await fetch(`${server.url}/api/spaces/${code}/contagion`)).json()) as { index: number; n: number };
    expect(published).toMatchObject({ n: 1, index: rel.index });
    const again = await post(`/api/spaces/${code}/privacy/releases`, { what: 'contagion', rho: 2 }, token);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { index: number }).index).toBe(rel.index);
    const status = (await (await fetch(`${server.url}/api/spaces/${code}/privacy`)).json()) as { spent: { rho: number }; releases: { what: string }[] };
    expect(status.spent.rho).toBe(2);
    expect(status.releases.map((x) => x.what)).toEqual(['contagion']);
  });

  it('[R8][R4] with too few people it is withheld (figures null), and past the budget it is refused without spending', async () => {
    const { code, token } = await room(2);
    const r = await post(`/api/spaces/${code}/privacy/releases`, { what: 'contagion', rho: 5 }, token);
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ withheld: true, index: null, exposedPull: null, unexposedPull: null, noiseSd: null });
    const over = await post(`/api/spaces/${code}/privacy/releases`, { what: 'contagion', from: 0, rho: 2 }, token);
    expect(over.status).toBe(403);
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe('PRIVACY_BUDGET_EXHAUSTED');
    const status = (await (await fetch(`${server.url}/api/spaces/${code}/privacy`)).json()) as { spent: { rho: number } };
    expect(status.spent.rho).toBe(5);
  });
});
