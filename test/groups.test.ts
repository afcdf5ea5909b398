/**
 * Groups and linked spaces through the host and the HTTP API (SPEC H1, W3, R6, M5;
 * docs/bridging.md), in process: a space with named groups, participants choosing and changing
 * their group, per-group pulses with the cohort rule, and two spaces linked by both stewards and
 * compared side by side.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../src/bus/local/localBus.ts';
import type { PulseMessage } from '../src/core/protocol.ts';
import { createApp } from '../src/http/app.ts';
import { MemoryGovernance } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { type ConnSink, SpaceHost } from '../src/space/spaceHost.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';
import { parseClientFrame } from '../src/ws/wsEdge.ts';

let host: SpaceHost;
let storage: MemoryStorage;
let governance: MemoryGovernance;
let scheduler: ManualScheduler;
let app: ReturnType<typeof createApp>;

beforeEach(async () => {
  governance = new MemoryGovernance();
  scheduler = new ManualScheduler();
  storage = new MemoryStorage();
  host = new SpaceHost({ storage, bus: new LocalBus(), governance, scheduler, machine: { release: { minCohort: 3 }, collective: false } });
  await host.start();
  app = createApp({ host, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, clock: () => scheduler.now() });
});

afterEach(async () => {
  await host.stop();
});

const post = (path: string, body: unknown, token?: string) =>
  app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });

async function person(code: string, group: string | null): Promise<{ ref: number; frames: string[] }> {
  const frames: string[] = [];
  const sink: ConnSink = { send: (f) => frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: () => {}, welcomed: () => {} };
  const ref = host.attach(sink);
  const r = await host.join(ref, code, 'participant', true, group);
  if (!r.ok) throw new Error(r.message);
  await host.drain();
  return { ref, frames };
}

let seq = 0;
const tap = (ref: number, valence: number, arousal: number) => host.input(ref, { t: 'input', seq: ++seq, valence, arousal, confidence: 1, source: 'tap' }, false);

async function pulse(id: string): Promise<PulseMessage> {
  scheduler.advance(600);
  await host.drain();
  return JSON.parse(new TextDecoder().decode(host.latestPulse(id) as Uint8Array)) as PulseMessage;
}

describe('groups within a space', () => {
  it('[H1][R6] a space is created with named groups (public, logged); bad group lists are refused', async () => {
    const r = await post('/api/spaces', { name: 'City', groups: [' Alterna ', 'Glimmers'] });
    expect(r.status).toBe(201);
    const s = (await r.json()) as { code: string; groups: string[] };
    expect(s.groups).toEqual(['Alterna', 'Glimmers']);
    expect(governance.acts.at(-1)).toMatchObject({ type: 'space.created', payload: { groups: ['Alterna', 'Glimmers'] } });
    expect(((await (await app.request(`/api/spaces/${s.code}`)).json()) as { groups: string[] }).groups).toEqual(['Alterna', 'Glimmers']);
    for (const groups of [['a', 'a'], Array.from({ length: 9 }, (_, i) => `g${i}`), ['x\u202e'], ['']]) {
      const bad = await post('/api/spaces', { name: 'x', groups });
      expect(bad.status).toBe(400);
    }
  });

  it('[W3][R6] a participant chooses a group at join and changes it; per-group pulses follow, withheld below k, and the choice itself is never published', async () => {
    const created = await host.createSpace({ name: 'City', groups: ['east', 'west'] });
    if (!created.ok) throw new Error(created.message);
    const { code, id } = created.value.space;
    const east = await Promise.all([0, 1, 2].map(() => person(code, 'east')));
    const west = await Promise.all([0, 1].map(() => person(code, 'west')));
    const none = await person(code, null);
    expect(JSON.parse(east[0]?.frames[0] ?? '{}')).toMatchObject({ t: 'welcome', group: 'east', space: { groups: ['east', 'west'] } });
    for (const p of east) tap(p.ref, 0.6, 0.6);
    for (const p of west) tap(p.ref, -0.6, -0.6);
    tap(none.ref, -0.6, -0.6);
    let p = await pulse(id);
    // east 3 shown; west 2 < k withheld; the withheld set (west + the one in no group) holds 3.
    expect(p.groups?.east).toMatchObject({ suppressed: false, count: 3 });
    expect(p.groups?.east?.mean?.valence).toBeCloseTo(0.6, 4);
    expect(p.groups?.west).toEqual({ suppressed: true, count: null, mean: null, spread: null, quadrants: null, hist: null });
    expect(p.bridging).toBeNull();
    // The unaffiliated person joins west: west 3 shown, nobody withheld; bridging between them.
    expect(host.setGroup(none.ref, 'west').ok).toBe(true);
    await host.drain();
    expect(JSON.parse(none.frames.at(-1) ?? '{}')).toEqual({ t: 'group', group: 'west' });
    p = await pulse(id);
    expect(p.groups?.west?.count).toBe(3);
    expect(p.bridging).toMatchObject({ between: ['east', 'west'], score: 0 });
    // Moving west people to east: the groups converge, and the score rises.
    for (const w of west) tap(w.ref, 0.6, 0.6);
    p = await pulse(id);
    expect(p.bridging?.score).toBe(1);
    // Unknown groups are refused; nothing changes.
    const before = none.frames.length;
    expect(host.setGroup(none.ref, 'north').ok).toBe(true);
    await host.drain();
    expect(JSON.parse(none.frames[before] ?? '{}')).toMatchObject({ t: 'error', code: 'BAD_REQUEST' });
    // The group is stored with the participant (personal data), and never in the pulse bytes with anyone's id.
    const bytes = new TextDecoder().decode(host.latestPulse(id) as Uint8Array);
    for (const x of [...east, ...west, none]) expect(bytes).not.toContain(JSON.parse(x.frames[0] ?? '{}').participant);
  });

  it('[W2] the group message is validated like every other frame', () => {
    expect(parseClientFrame('{"t":"group","group":"east"}')).toMatchObject({ ok: true, msg: { t: 'group', group: 'east' } });
    expect(parseClientFrame('{"t":"group","group":null}')).toMatchObject({ ok: true });
    expect(parseClientFrame('{"t":"group","group":"east","x":1}')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(parseClientFrame('{"t":"join","code":"ABCD2345","consent":true,"group":""}')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
  });
});

describe('groups and links across a restart', () => {
  it('[S6][M7][R6] a restarted host rebuilds each participant’s group and the space’s links from storage', async () => {
    const created = await host.createSpace({ name: 'City', groups: ['east', 'west'] });
    const other = await host.createSpace({ name: 'Other' });
    if (!created.ok || !other.ok) throw new Error('create');
    const { code, id } = created.value.space;
    const people = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => person(code, i < 5 ? 'west' : null)));
    for (const p of people) tap(p.ref, 0.4, 0.4);
    // Three move to east after joining: east 3 (shown), west 2 and one in no group (withheld together, 3).
    for (const p of people.slice(0, 3)) expect(host.setGroup(p.ref, 'east').ok).toBe(true);
    await post(`/api/spaces/${code}/links`, { with: other.value.space.code }, created.value.stewardToken);
    await post(`/api/spaces/${other.value.space.code}/links`, { with: code }, other.value.stewardToken);
    const before = await pulse(id);
    expect([before.groups?.east?.count, before.groups?.west?.suppressed]).toEqual([3, true]);
    await host.stop();
    host = new SpaceHost({ storage, bus: new LocalBus(), governance, scheduler, machine: { release: { minCohort: 3 }, collective: false } });
    await host.start();
    app = createApp({ host, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, clock: () => scheduler.now() });
    const state = host.stateOf(id);
    expect([...(state?.participants.values() ?? [])].map((p) => p.group ?? -1).sort()).toEqual([-1, 0, 0, 0, 1, 1]);
    expect(host.linksOf(id)).toEqual([other.value.space.code]);
    const after = await pulse(id);
    expect(after.groups).toEqual(before.groups);
    // Someone who chose a group but has no live point is not rebuilt at start; resuming brings the group back.
    const quiet = await (async () => {
      const created2 = await host.createSpace({ name: 'Quiet', groups: ['north'] });
      if (!created2.ok) throw new Error(created2.message);
      const q = await person(created2.value.space.code, 'north');
      return { id: created2.value.space.id, token: (JSON.parse(q.frames[0] ?? '{}') as { token: string }).token };
    })();
    await host.stop();
    host = new SpaceHost({ storage, bus: new LocalBus(), governance, scheduler, machine: { release: { minCohort: 3 }, collective: false } });
    await host.start();
    const frames: string[] = [];
    const ref = host.attach({ send: (f) => frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: () => {}, welcomed: () => {} });
    expect((await host.resume(ref, quiet.token)).ok).toBe(true);
    await host.drain();
    expect(JSON.parse(frames[0] ?? '{}')).toMatchObject({ t: 'welcome', group: 'north' });
    expect([...(host.stateOf(quiet.id)?.participants.values() ?? [])].map((p) => p.group)).toEqual([0]);
  });
});

describe('linked spaces', () => {
  it('[M5] two spaces are linked once both stewards agree (each act logged first); the compare view needs the link', async () => {
    const a = await host.createSpace({ name: 'Alterna' });
    const b = await host.createSpace({ name: 'Glimmers' });
    if (!a.ok || !b.ok) throw new Error('create');
    const [A, B] = [a.value, b.value];
    const compare = () => app.request(`/api/compare?spaces=${A.space.code},${B.space.code}`);
    expect((await compare()).status).toBe(404);
    expect((await post(`/api/spaces/${A.space.code}/links`, { with: B.space.code }, 'wrong')).status).toBe(401);
    const logged = governance.acts.length;
    const one = await post(`/api/spaces/${A.space.code}/links`, { with: B.space.code }, A.stewardToken);
    expect(await one.json()).toEqual({ linked: false, with: B.space.code });
    expect(governance.acts.slice(logged)).toEqual([expect.objectContaining({ type: 'space.linked', space: A.space.id, payload: { with: B.space.id } })]);
    expect((await compare()).status).toBe(404);
    const two = await post(`/api/spaces/${B.space.code}/links`, { with: A.space.code }, B.stewardToken);
    expect(await two.json()).toEqual({ linked: true, with: A.space.code });
    // People in both rooms, feeling alike: the compare view shows both pulses and their bridging.
    for (const [code, v] of [[A.space.code, 0.5], [B.space.code, 0.5]] as const) {
      for (let i = 0; i < 3; i++) tap((await person(code, null)).ref, v, 0.2);
    }
    scheduler.advance(600);
    await host.drain();
    const r = await compare();
    expect(r.status).toBe(200);
    const j = (await r.json()) as { spaces: { code: string; pulse: PulseMessage }[]; bridging: { score: number; between: string[] } };
    expect(j.spaces.map((s) => [s.code, s.pulse.count])).toEqual([
      [A.space.code, 3],
      [B.space.code, 3],
    ]);
    expect(j.bridging).toMatchObject({ between: [A.space.code, B.space.code], score: 1 });
    expect(((await (await app.request(`/api/spaces/${A.space.code}/links`)).json()) as { linked: string[] }).linked).toEqual([B.space.code]);
    // Either steward can withdraw: logged, and the view is refused again.
    await post(`/api/spaces/${B.space.code}/links`, { with: A.space.code, agree: false }, B.stewardToken);
    expect(governance.acts.at(-1)).toMatchObject({ type: 'space.unlinked', space: B.space.id });
    expect((await compare()).status).toBe(404);
  });

  it('[M5] a link whose log entry fails changes nothing', async () => {
    const a = await host.createSpace({ name: 'A' });
    const b = await host.createSpace({ name: 'B' });
    if (!a.ok || !b.ok) throw new Error('create');
    governance.record = async () => {
      throw new Error('log down');
    };
    const r = await post(`/api/spaces/${a.value.space.code}/links`, { with: b.value.space.code }, a.value.stewardToken);
    expect(r.status).toBe(503);
    expect(host.stateOf(a.value.space.id)?.links.size).toBe(0);
  });
});
