/**
 * The full server (createServer with its defaults: the public log, the collective-state tracker,
 * text analysis) over real WebSockets: the collective state in the pulse (and never below the
 * minimum cohort), text inputs analysed on the server, every act on the log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { auditLog } from '../src/log/audit.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { connect, isType, type Msg, type TestClient } from './support/wsClient.ts';

let server: RunningServer;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

async function start(minCohort: number): Promise<string> {
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort, participantHz: 10 });
  const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'extras' }) });
  return ((await r.json()) as { code: string }).code;
}

async function participant(code: string): Promise<TestClient> {
  const c = await connect(`${server.url.replace('http', 'ws')}/ws`);
  clients.push(c);
  c.send({ t: 'join', code, consent: true });
  await c.next(isType('welcome'));
  return c;
}

describe('server extras', () => {
  it('[G1] logs space created, steward changed and space closed; an independent audit verifies the log', async () => {
    await start(3);
    const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'audited' }) });
    const { code, stewardToken } = (await r.json()) as { code: string; stewardToken: string };
    const rot = await fetch(`${server.url}/api/spaces/${code}/steward-token`, { method: 'POST', headers: { authorization: `Bearer ${stewardToken}` } });
    const fresh = ((await rot.json()) as { stewardToken: string }).stewardToken;
    await fetch(`${server.url}/api/spaces/${code}/close`, { method: 'POST', headers: { authorization: `Bearer ${fresh}` } });
    const report = await auditLog({ prefix: `${server.url}/log`, verifierKeys: server.log?.verifierKeys ?? [], previous: null });
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    // Two spaces were created (one in start()), one steward change, one close.
    expect(report.counts.byType).toMatchObject({ 'space.created': 2, 'steward.changed': 1, 'space.closed': 1 });
    const entries = await (await fetch(`${server.url}/log/entries?start=0&limit=10`)).text();
    expect(entries).not.toContain(stewardToken);
    expect(entries).not.toContain(fresh);
  });

  it('[P6] a room split into two camps shows two camps and high dissonance in the pulse', async () => {
    const code = await start(3);
    const people: TestClient[] = [];
    for (let i = 0; i < 12; i++) people.push(await participant(code));
    for (const [i, c] of people.entries()) {
      const camp = i % 2 === 0 ? 1 : -1;
      c.send({ t: 'input', seq: 1, valence: 0.8 * camp + (i % 3) * 0.02, arousal: 0.7 * camp - (i % 4) * 0.02 });
      await c.next(isType('ack'));
    }
    const watcher = people[0] as TestClient;
    const split = await watcher.next((m: Msg) => {
      const col = m.collective as { camps?: unknown[]; dissonance?: { score: number } } | null | undefined;
      return m.t === 'pulse' && m.count === 12 && !!col && (col.camps?.length ?? 0) === 2;
    }, 10_000);
    const col = split.collective as { camps: { share: number; people: number }[]; dissonance: { score: number; r2: number; bimodal: boolean } };
    expect(col.dissonance.score).toBeGreaterThan(0.5);
    expect(col.dissonance.r2).toBeGreaterThan(0.8);
    expect(col.dissonance.bimodal).toBe(true);
    expect(col.camps.map((c) => c.people).sort()).toEqual([6, 6]);
  });

  it('[P4] withholds the collective state while the pulse is suppressed', async () => {
    const code = await start(5);
    const a = await participant(code);
    a.send({ t: 'input', seq: 1, valence: 0.5, arousal: 0.5 });
    await a.next(isType('ack'));
    const p = await a.next((m) => m.t === 'pulse' && m.count === 1);
    expect(p.suppressed).toBe(true);
    expect(p.collective ?? null).toBeNull();
  });

  it('[W5] analyses text on the server: a happy sentence lands on the pleasant side, with its confidence', async () => {
    const code = await start(1);
    const c = await participant(code);
    c.send({ t: 'input', seq: 1, text: 'I am so happy and grateful, this is wonderful!' });
    const ack = await c.next(isType('ack'));
    const affect = ack.affect as { valence: number; confidence: number; source: string };
    expect(affect.source).toBe('text');
    expect(affect.valence).toBeGreaterThan(0.1);
    expect(affect.confidence).toBeGreaterThan(0.2);
    c.send({ t: 'input', seq: 2, text: '' });
    const empty = await c.next(isType('ack'));
    expect((empty.affect as { confidence: number }).confidence).toBe(0);
  });
});
