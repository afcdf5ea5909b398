/**
 * One space on three nodes in one process (SPEC §K): three SpaceHosts, one shared storage, one
 * bus and one KV store, on a manual scheduler — the lease, the merge of partial aggregates, the
 * takeover when the owner goes silent, and a participant moving to another node.
 * test/clusterProcesses.test.ts runs the same over real processes, NATS and PostgreSQL.
 */
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { LocalBus } from '../src/bus/local/localBus.ts';
import { MemoryKv } from '../src/bus/local/memoryKv.ts';
import { ClusterNode, clusterSubjects, DEFAULT_CLUSTER_TIMINGS, leaseKey } from '../src/space/cluster/clusterNode.ts';
import { allocateSlot, NODE_SLOTS, nodeStorage } from '../src/space/cluster/nodeStorage.ts';
import { Aggregate } from '../src/core/aggregate/aggregate.ts';
import { decodeLease, decideLease } from '../src/core/cluster/lease.ts';
import { decodePartial, encodePartial } from '../src/core/cluster/partial.ts';
import { HeartSynchrony, type ReleasedHeartSynchrony } from '../src/core/collective/heartSynchrony.ts';
import { policyJson } from '../src/core/policy/policyJson.ts';
import { decodeEntry } from '../src/log/entry.ts';
import { governanceSink } from '../src/log/governanceSink.ts';
import { signerFromSeed } from '../src/log/note.ts';
import { TransparencyLog } from '../src/log/transparencyLog.ts';
import { MemoryGovernance } from '../src/server/createServer.ts';
import { type Feeds, startFeeds } from '../src/server/feeds.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { type ConnSink, SpaceHost, subjects } from '../src/space/spaceHost.ts';
import { MemoryLogStore } from '../src/storage/memory/memoryLogStore.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';

const dec = new TextDecoder();

interface Frames {
  readonly list: string[];
  readonly sink: ConnSink;
}

function frames(): Frames {
  const list: string[] = [];
  return { list, sink: { send: (f) => list.push(typeof f === 'string' ? f : dec.decode(f)), close: (code) => list.push(`close:${code}`), welcomed: () => {} } };
}

const tap = (seq: number, valence: number, arousal: number) => ({ t: 'input' as const, seq, valence, arousal, confidence: 1, source: 'tap' as const });

const settle = () => new Promise<void>((r) => setImmediate(r));

const LOG_KEY = signerFromSeed('cluster.test/log', new Uint8Array(32).fill(3));

/**
 * `n` nodes over one storage, bus and KV store. With `log`, each node has its own public log over
 * one shared log store (as nodes over one PostgreSQL do, K9); `log` reads it.
 */
async function cluster(n: number, o: { readonly log?: boolean; readonly machine?: ConstructorParameters<typeof SpaceHost>[0]['machine'] } = {}) {
  const sch = new ManualScheduler();
  const storage = new MemoryStorage();
  const bus = new LocalBus();
  const kv = new MemoryKv();
  const shared = new MemoryGovernance();
  const logStore = o.log ? new MemoryLogStore() : null;
  let log: TransparencyLog | null = null;
  const nodes: { id: string; host: SpaceHost; node: ClusterNode }[] = [];
  for (let i = 0; i < n; i++) {
    const id = `node-${i}`;
    const slot = await allocateSlot(kv, id);
    const own = logStore ? await TransparencyLog.open({ store: logStore, signer: LOG_KEY, now: () => sch.now() }) : null;
    log ??= own;
    const governance = own ? governanceSink(own) : shared;
    const node = new ClusterNode({ nodeId: id, bus, kv, scheduler: sch, storage, report: () => {} });
    const host = new SpaceHost({ storage: nodeStorage(storage, slot), bus, governance, scheduler: sch, machine: o.machine ?? { release: { minCohort: 1 }, collective: false }, cluster: node.hooks, report: () => {} });
    await host.start();
    node.start(host);
    nodes.push({ id, host, node });
  }
  /** Advances time in small steps, letting promises (KV, storage) settle in between. */
  const run = async (ms: number, stepMs = 10) => {
    for (let t = 0; t < ms; t += stepMs) {
      sch.advance(stepMs);
      await settle();
      await settle();
    }
  };
  const pulses: string[] = [];
  return { sch, storage, bus, kv, nodes, run, pulses, log, logStore };
}

async function join(host: SpaceHost, code: string) {
  const f = frames();
  const ref = host.attach(f.sink);
  await host.join(ref, code, 'participant', true);
  return { ref, f };
}

const parsed = (list: readonly string[]) => list.filter((s) => s.startsWith('{')).map((s) => JSON.parse(s) as Record<string, unknown>);

describe('cluster (one space on several nodes, in one process)', () => {
  it('[K2] exactly one node owns the tick; [K3] its pulse is the exact merge of every node’s partial', async () => {
    const c = await cluster(3);
    const [a, b, d] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0], (typeof c.nodes)[0]];
    const created = await a.host.createSpace({ name: 'city' });
    if (!created.ok) throw new Error(created.message);
    const { id, code } = created.value.space;
    const got: string[] = [];
    c.bus.subscribe(subjects.displayPulse(id), (bytes) => got.push(dec.decode(bytes)));
    const points: [number, number][] = [];
    const hosts = [a.host, b.host, d.host];
    for (let i = 0; i < 9; i++) {
      const host = hosts[i % 3] as SpaceHost;
      const p = await join(host, code);
      await c.run(20);
      const v = Math.round(Math.sin(i + 1) * 1000) / 1000;
      const ar = Math.round(Math.cos(i * 2) * 1000) / 1000;
      points.push([v, ar]);
      host.input(p.ref, tap(1, v, ar), true);
    }
    // A display on node b, so the owner ticks at the display rate.
    const disp = frames();
    const dref = b.host.attach(disp.sink);
    await b.host.join(dref, code, 'display', false);
    await c.run(2000);
    const owners = c.nodes.filter((x) => x.node.status(id)?.owned);
    expect(owners).toHaveLength(1);
    const lease = decodeLease(((await c.kv.get(leaseKey(id))) as { value: Uint8Array }).value);
    expect(lease.node).toBe(owners[0]?.id);
    // Every node saw every node's partial, and counts the others' connected participants.
    for (const x of c.nodes) expect(x.node.status(id)?.nodes).toEqual(['node-0', 'node-1', 'node-2']);
    expect(a.node.hooks.elsewhere(id)).toBe(6);
    // [K6] presence (H2) is the whole space's, on every node.
    for (const x of c.nodes) expect(x.host.presence(id)).toEqual({ present: 9, connected: 9, displays: 1, feeds: 0 });
    // The merged pulse equals the aggregate of the whole crowd, bit for bit.
    const whole = new Aggregate(16);
    for (const [v, ar] of points) whole.add(whole.pointOf(v, ar));
    const last = JSON.parse(got.at(-1) as string) as { count: number; mean: { valence: number; arousal: number }; spread: { valence: number; arousal: number } };
    const m = whole.moments();
    expect(last.count).toBe(9);
    expect(last.mean).toEqual(m.mean);
    expect(last.spread).toEqual(m.spread);
    // Published once per beat: seqs strictly increase by one, with no duplicates.
    const seqs = got.map((g) => (JSON.parse(g) as { seq: number }).seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] as number) + 1);
    // Every node's host serves the owner's pulse (reads, welcomes), not its own partial.
    for (const x of c.nodes) expect(dec.decode(x.host.latestPulse(id) as Uint8Array)).toBe(got.at(-1));
    // [K4] A node that starts (or restarts) later restores nobody from storage: they are held
    // elsewhere, and each comes back with their resume — so the count stays whole, not doubled.
    const slot = await allocateSlot(c.kv, 'node-late');
    const late = new ClusterNode({ nodeId: 'node-late', bus: c.bus, kv: c.kv, scheduler: c.sch, storage: c.storage, report: () => {} });
    const lateHost = new SpaceHost({ storage: nodeStorage(c.storage, slot), bus: c.bus, governance: new MemoryGovernance(), scheduler: c.sch, machine: { release: { minCohort: 1 }, collective: false }, cluster: late.hooks, report: () => {} });
    await lateHost.start();
    late.start(lateHost);
    await c.run(1000);
    expect(lateHost.stateOf(id)?.pulse.grid.n).toBe(0);
    expect((JSON.parse(got.at(-1) as string) as { count: number }).count).toBe(9);
    // [K3] The series (P7) holds the owner's merged figures only, never a node's partial.
    const series = await c.storage.listPulsePoints(id, 0, Number.MAX_SAFE_INTEGER, 1000);
    expect(series.length).toBeGreaterThan(0);
    const whole9 = series.findIndex((p) => p.count === 9);
    expect(whole9).toBeGreaterThanOrEqual(0);
    expect(series.slice(whole9).every((p) => p.count === 9)).toBe(true);
    for (const x of [...c.nodes, { node: late }]) await x.node.stop();
  });

  it("[K3] an input on another node goes out in its partial within promptMs, and the owner's next beat shows it", async () => {
    const c = await cluster(2);
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    const created = await a.host.createSpace({ name: 'prompt' });
    if (!created.ok) throw new Error(created.message);
    const { id, code } = created.value.space;
    const disp = frames();
    await a.host.join(a.host.attach(disp.sink), code, 'display', false);
    const p = await join(b.host, code);
    await c.run(1000);
    const partials: number[] = [];
    c.bus.subscribe(clusterSubjects.partial(id), (bytes) => {
      if ((JSON.parse(dec.decode(bytes)) as { node?: string }).node === b.id) partials.push(c.sch.now());
    });
    const shown: number[] = [];
    c.bus.subscribe(subjects.displayPulse(id), (bytes) => {
      const m = JSON.parse(dec.decode(bytes)) as { mean: { valence: number } | null };
      if (m.mean && m.mean.valence > 0.5) shown.push(c.sch.now());
    });
    // Just after b's partial went out on the 50 ms grid: without the prompt one, the next would wait ≈ 50 ms.
    await c.run(50, 1);
    const t0 = c.sch.now();
    b.host.input(p.ref, tap(1, 0.9, 0.9), true);
    await c.run(120, 1);
    expect(partials.find((t) => t >= t0)).toBeLessThanOrEqual(t0 + DEFAULT_CLUSTER_TIMINGS.promptMs);
    expect((shown[0] as number) - t0).toBeLessThanOrEqual(DEFAULT_CLUSTER_TIMINGS.promptMs + 50);
    for (const x of c.nodes) await x.node.stop();
  });

  it('[K2] the node that creates a space owns its tick before createSpace resolves: its first beat is published, with no time advanced', async () => {
    const c = await cluster(3);
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    for (const [i, x] of [a, b].entries()) {
      const made = await x.host.createSpace({ name: `at once ${i}` });
      if (!made.ok) throw new Error(made.message);
      const { id } = made.value.space;
      expect(x.node.status(id)?.owned).toBe(true);
      expect(decodeLease(((await c.kv.get(leaseKey(id))) as { value: Uint8Array }).value).node).toBe(x.id);
      expect((JSON.parse(dec.decode(x.host.latestPulse(id) as Uint8Array)) as { seq: number }).seq).toBe(1);
    }
    for (const x of c.nodes) await x.node.stop();
  });

  it('[K2][K11] when the owner goes silent another node takes the tick within leaseMs + renewMs; seq and smoothing continue', async () => {
    const c = await cluster(3);
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    const created = await a.host.createSpace({ name: 'failover' });
    if (!created.ok) throw new Error(created.message);
    const { id, code } = created.value.space;
    const got: { seq: number; at: number; smoothed: unknown }[] = [];
    c.bus.subscribe(subjects.participantPulse(id), (bytes) => got.push(JSON.parse(dec.decode(bytes)) as { seq: number; at: number; smoothed: unknown }));
    for (const x of c.nodes) {
      const p = await join(x.host, code);
      await c.run(20);
      x.host.input(p.ref, tap(1, 0.5, -0.25), true);
    }
    await c.run(3000);
    const owner = c.nodes.find((x) => x.node.status(id)?.owned);
    if (!owner) throw new Error('no owner');
    const before = got.at(-1) as { seq: number; at: number; smoothed: unknown };
    const silentAt = c.sch.now();
    await owner.node.stop({ handOver: false });
    // Its partial is gone too: its participant leaves the merge (until they resume elsewhere).
    let takenAt: number | null = null;
    for (let t = 0; t < 4000 && takenAt === null; t += 10) {
      await c.run(10);
      if (c.nodes.some((x) => x !== owner && x.node.status(id)?.owned)) takenAt = c.sch.now();
    }
    expect(takenAt).not.toBeNull();
    expect((takenAt as number) - silentAt).toBeLessThanOrEqual(1500 + 300 + 20);
    await c.run(1500);
    const after = got.filter((g) => g.seq > before.seq);
    expect(after.length).toBeGreaterThan(0);
    // seq continues: no pulse number is reused, none goes backwards.
    const seqs = got.map((g) => g.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i] as number).toBeGreaterThan(seqs[i - 1] as number);
    expect(after[0]?.seq).toBe(before.seq + 1);
    expect(after[0]?.smoothed).toEqual(before.smoothed);
    // [K8][K11] The silent node's participant has left the pulse (its partial is gone) until they resume elsewhere.
    expect((got.at(-1) as unknown as { count: number }).count).toBe(2);
    const newOwner = c.nodes.find((x) => x.node.status(id)?.owned);
    expect(newOwner?.node.takeovers.at(-1)?.spaceId).toBe(id);
    expect(b === owner || a === owner || newOwner !== owner).toBe(true);
    for (const x of c.nodes) await x.node.stop();
  });

  it('[K4] a participant who resumes on another node counts once there, keeps their point and seq; [K6] capacity spans the nodes', async () => {
    const c = await cluster(2);
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    const created = await a.host.createSpace({ name: 'move', capacity: 3 });
    if (!created.ok) throw new Error(created.message);
    const { id, code } = created.value.space;
    const p = await join(a.host, code);
    await c.run(20);
    const token = String(parsed(p.f.list).find((m) => m.t === 'welcome')?.token);
    a.host.input(p.ref, tap(1, 0.75, 0.5), true);
    a.host.input(p.ref, tap(2, -0.75, 0.5), true);
    const q = await join(b.host, code);
    await c.run(500);
    expect(parsed(p.f.list).filter((m) => m.t === 'ack').map((m) => m.seq)).toEqual([1, 2]);
    // Capacity 3 over both nodes: one more fits on b, then b refuses although it holds only 2.
    await join(b.host, code);
    await c.run(500);
    const refused = await join(b.host, code);
    await c.run(20);
    expect(parsed(refused.f.list).map((m) => m.t)).toContain('full');
    // p's socket on a is gone (a crashed, say); p resumes on b.
    a.host.detach(p.ref);
    // At once: a's last partial still counts p as connected there, but a resume is someone
    // already admitted coming back, so only b's own connections count against the capacity.
    const moved = frames();
    const ref = b.host.attach(moved.sink);
    await b.host.resume(ref, token);
    await c.run(500);
    const w = parsed(moved.list).find((m) => m.t === 'welcome');
    expect(w).toMatchObject({ lastSeq: 2, you: { valence: -0.75, arousal: 0.5 } });
    // a let go of them: their point and seq state left a's machine, and the merged count holds them once.
    expect(a.host.stateOf(id)?.participants.has(String(w?.participant))).toBe(false);
    expect(a.host.stateOf(id)?.pulse.grid.n).toBe(0);
    const pulse = JSON.parse(dec.decode(b.host.latestPulse(id) as Uint8Array)) as { count: number };
    expect(pulse.count).toBe(1);
    // The replayed seq 2 is acked again, not counted twice; seq 1 is refused (never acknowledged twice).
    b.host.input(ref, tap(2, -0.75, 0.5), true);
    b.host.input(ref, tap(3, 0.25, 0.25), true);
    await c.run(100);
    expect(parsed(moved.list).filter((m) => m.t === 'ack').map((m) => m.seq)).toEqual([2, 3]);
    void q;
    for (const x of c.nodes) await x.node.stop();
  });

  it('[K2] an owner whose renewals are late pauses before anyone may take over, then goes on with the same machine', async () => {
    const c = await cluster(1);
    const [a] = c.nodes as [(typeof c.nodes)[0]];
    const acquired: string[] = [];
    const owned: boolean[] = [];
    a.node.leaseObserver = { leaseAcquired: (id) => acquired.push(id), setLeaseOwned: (_id, o) => owned.push(o), forgetLease: () => {} };
    const created = await a.host.createSpace({ name: 'slow kv' });
    if (!created.ok) throw new Error(created.message);
    const { id, code } = created.value.space;
    const got: number[] = [];
    c.bus.subscribe(subjects.participantPulse(id), (bytes) => got.push((JSON.parse(dec.decode(bytes)) as { seq: number }).seq));
    await join(a.host, code);
    await c.run(1000);
    expect(acquired).toEqual([id]);
    const machine = (a.node as unknown as { spaces: Map<string, { machine: unknown }> }).spaces.get(id)?.machine;
    // The KV store stops answering updates (a slow NATS, a starved process).
    const kv = c.kv as unknown as { update: (...x: unknown[]) => Promise<number | null> };
    const update = kv.update.bind(c.kv);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    kv.update = async (...x: unknown[]) => {
      await gate;
      return update(...x);
    };
    const before = got.length;
    await c.run(1500);
    const during = got.length;
    await c.run(500);
    // Paused: no pulse for the last 500 ms (and none after leaseMs − renewMs without a renewal).
    expect(got.length).toBe(during);
    expect(during - before).toBeLessThanOrEqual(3);
    release();
    kv.update = update;
    await c.run(1000);
    expect(got.length).toBeGreaterThan(during);
    for (let i = 1; i < got.length; i++) expect(got[i] as number).toBeGreaterThan(got[i - 1] as number);
    // The same owner machine (tracker, smoothing) goes on; the lease was not acquired again.
    expect((a.node as unknown as { spaces: Map<string, { machine: unknown }> }).spaces.get(id)?.machine).toBe(machine);
    expect(acquired).toEqual([id]);
    expect(owned.at(-1)).toBe(true);
    expect(owned).toContain(false);
    await a.node.stop();
  });

  it('[F8] push feeds leave a cluster once: OSC bundles and webhooks from the node that published the pulse or applied the close; settings reach every node', async () => {
    const c = await cluster(3);
    const [a] = c.nodes as [(typeof c.nodes)[0]];
    const posts: { url: string; type: string }[] = [];
    const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
      posts.push({ url: String(url), type: String((init?.headers as Record<string, string> | undefined)?.['attune-event']) });
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    const feeds: Feeds[] = [];
    for (const x of c.nodes) {
      const delivery = { pulse: (spaceId: string, seq: number) => x.node.published(spaceId, seq), closed: (spaceId: string) => x.host.closedHere(spaceId) };
      feeds.push(await startFeeds({ host: x.host, bus: c.bus, scheduler: c.sch, storage: c.storage, fetch: fakeFetch, secretKey: 'one key on every node', report: () => {}, cluster: { delivery } }));
    }
    const [, fb, fd] = feeds as [Feeds, Feeds, Feeds];
    const created = await a.host.createSpace({ name: 'light show' });
    if (!created.ok) throw new Error(created.message);
    const { id, code } = created.value.space;
    const record = created.value.space;
    for (const x of c.nodes) {
      const p = await join(x.host, code);
      await c.run(20);
      x.host.input(p.ref, tap(1, 0.5, 0.5), true);
    }
    // A venue's rig: a real UDP socket; the steward sets it on node b.
    const rig = createSocket('udp4');
    let received = 0;
    rig.on('message', () => received++);
    await new Promise<void>((r) => rig.bind(0, '127.0.0.1', () => r()));
    const port = (rig.address() as AddressInfo).port;
    expect((await fb.settings.setOscTargets(record, [{ host: '127.0.0.1', port }])).ok).toBe(true);
    // And a webhook, subscribed through node d.
    expect((await fd.settings.addWebhook(record, 'https://venue.example/hook', ['decision'])).ok).toBe(true);
    await c.run(100);
    // Every node holds the same settings (stored, announced, reloaded).
    for (const f of feeds) {
      expect(f.osc.spaceTargets(id)).toEqual([{ host: '127.0.0.1', port }]);
      expect(f.webhooks.list(id).map((w) => w.url)).toEqual(['https://venue.example/hook']);
    }
    const displayPulses: number[] = [];
    c.bus.subscribe(subjects.displayPulse(id), (bytes) => displayPulses.push((JSON.parse(dec.decode(bytes)) as { seq: number }).seq));
    const sentBefore = feeds.map((f) => f.osc.stats.bundles);
    await c.run(2000);
    const owner = c.nodes.findIndex((x) => x.node.status(id)?.owned);
    expect(owner).toBeGreaterThanOrEqual(0);
    const sent = feeds.map((f, i) => f.osc.stats.bundles - (sentBefore[i] as number));
    // Display-rate pulses flow (the feeds watch on every node) and each went out exactly once, from the owner.
    expect(displayPulses.length).toBeGreaterThan(20);
    expect(sent.reduce((x, y) => x + y, 0)).toBe(displayPulses.length);
    expect(sent.filter((n, i) => i !== owner && n > 0)).toEqual([]);
    await expect.poll(() => received, { timeout: 5000 }).toBe(feeds.reduce((x, f) => x + f.osc.stats.bundles, 0));
    // [K6] The feeds' watches count as feeds, not displays, on every node.
    for (const x of c.nodes) expect(x.host.presence(id)).toMatchObject({ displays: 0, feeds: 3 });
    // Pull feeds on every node serve the owner's bytes: the SSE history (F2) and reads (H5).
    const lastDisplay = displayPulses.at(-1) as number;
    for (const [i, f] of feeds.entries()) {
      expect(f.history.latest(id)?.seq).toBe(lastDisplay);
      expect(f.history.latest(id)?.data).toBe(feeds[owner]?.history.latest(id)?.data);
      expect((JSON.parse(dec.decode(c.nodes[i]?.host.latestPulse(id) as Uint8Array)) as { seq: number }).seq).toBe(lastDisplay);
    }
    // The close, applied on node a, is announced to the webhook once (not once per node).
    expect((await a.host.closeSpace(code, created.value.stewardToken)).ok).toBe(true);
    await c.run(100);
    await Promise.all(feeds.map((f) => f.webhooks.idle()));
    expect(posts).toEqual([{ url: 'https://venue.example/hook', type: 'space.closed' }]);
    // The delivery log every node shows the steward is the stored one: node b lists a's delivery.
    expect((await fb.webhooks.listDeliveries(id)).map((r) => r.outcome)).toEqual(['delivered']);
    rig.close();
    for (const f of feeds) await f.close();
    for (const x of c.nodes) await x.node.stop();
  });

  it('[K10][R5] heart synchrony on a cluster: the owner measures every node’s sharers, as one node measuring them all would', async () => {
    const c = await cluster(3);
    const [a] = c.nodes as [(typeof c.nodes)[0]];
    const created = await a.host.createSpace({ name: 'hearts' });
    if (!created.ok) throw new Error(created.message);
    const { id, code } = created.value.space;
    const people: { host: SpaceHost; ref: string; seq: number }[] = [];
    for (let i = 0; i < 9; i++) {
      const host = (c.nodes[i % 3] as (typeof c.nodes)[0]).host;
      const p = await join(host, code);
      people.push({ host, ref: p.ref as unknown as string, seq: 0 });
      await c.run(20);
    }
    // The reference: one HeartSynchrony (seeded like the space's) fed every reading.
    const reference = new HeartSynchrony({ seed: id });
    const got: { heart?: ReleasedHeartSynchrony; at: number }[] = [];
    c.bus.subscribe(subjects.participantPulse(id), (bytes) => got.push(JSON.parse(dec.decode(bytes)) as { heart?: ReleasedHeartSynchrony; at: number }));
    // 70 s of readings every 2 s: a shared slow swell, each heart its own level and wobble.
    for (let k = 0; k < 35; k++) {
      people.forEach((p, j) => {
        const bpm = Math.round((70 + j + 8 * Math.sin(k / 3) + 3 * Math.sin(k * (j + 1.7))) * 10) / 10;
        p.seq++;
        reference.observe(`p${j}`, bpm, c.sch.now());
        p.host.input(p.ref as never, { t: 'input', seq: p.seq, valence: 0.2, arousal: 0.1, confidence: 1, source: 'heart', heart: { bpm } }, true);
      });
      await c.run(2000, 50);
    }
    const last = got.at(-1);
    const heart = last?.heart;
    expect(heart?.sharing).toBe(9);
    const sync = heart?.synchrony;
    if (!sync) throw new Error('no synchrony on the cluster pulse');
    const ref = reference.compute(sync.at);
    expect(sync.people).toBe(9);
    expect(ref.people).toBe(9);
    // The observed ISC is the same statistic over the same series (to rounding: sums in another order).
    expect(Math.abs((sync.isc as number) - (ref.isc as number))).toBeLessThan(1e-9);
    expect(sync.isc as number).toBeGreaterThan(0.3);
    // The interval and the surrogates are the same estimator; their seeded draws follow the rows' order.
    expect(sync.lower as number).toBeLessThanOrEqual(sync.isc as number);
    expect(sync.upper as number).toBeGreaterThanOrEqual(sync.isc as number);
    expect(sync.p).not.toBeNull();
    // A node that dies takes its sharers' rows out of the measure with its partial (1 s, K8).
    const dead = c.nodes.find((x) => !x.node.status(id)?.owned) as (typeof c.nodes)[0];
    await dead.node.stop({ handOver: false });
    await c.run(1500, 50);
    expect(got.at(-1)?.heart?.sharing).toBe(6);
    expect(got.at(-1)?.heart?.synchrony?.people).toBe(6);
    for (const x of c.nodes) await x.node.stop();
  });

  it('[K10] a partial carries a heart window only as rows of the window’s slots within 25–250 bpm', () => {
    const grid = new Aggregate(4);
    const base = { node: 'n', at: 1, connected: 1, displays: 0, feeds: 0, grid, groups: [] };
    const row = Float64Array.from({ length: 30 }, (_, i) => 60 + i / 10);
    const text = encodePartial({ ...base, heart: { end: 7, tracked: 2, sharing: 1, rows: [row] } });
    expect(decodePartial(text, 4, 0, 30)?.heart).toEqual({ end: 7, tracked: 2, sharing: 1, rows: [row] });
    expect(decodePartial(text, 4, 0, 15)).toBeNull();
    expect(decodePartial(text.replace('"rows":[[60', '"rows":[[6'), 4, 0, 30)).toBeNull();
    expect(decodePartial(encodePartial(base), 4, 0, 30)?.heart).toBeUndefined();
  });

  it('[K12] an owner’s partial carries its council figures, as non-negative integers only', () => {
    const base = { node: 'n', at: 1, connected: 1, displays: 0, feeds: 0, grid: new Aggregate(4), groups: [] };
    const text = encodePartial({ ...base, gov: { optedOut: 4, evalErrors: 17 } });
    expect(decodePartial(text, 4, 0)?.gov).toEqual({ optedOut: 4, evalErrors: 17 });
    expect(decodePartial(encodePartial(base), 4, 0)?.gov).toBeUndefined();
    expect(decodePartial(text.replace('"evalErrors":17', '"evalErrors":-1'), 4, 0)).toBeNull();
    expect(decodePartial(text.replace('"optedOut":4', '"optedOut":"4"'), 4, 0)).toBeNull();
  });

  it('[K12][K9] a policy adopted via other nodes fires on the owner over the merged pulse; every node serves the same bytes with its feedback; each act is logged once; a taker goes on', async () => {
    const c = await cluster(3, { log: true });
    const first = c.nodes[0] as (typeof c.nodes)[0];
    const created = await first.host.createSpace({ name: 'council city' });
    if (!created.ok) throw new Error(created.message);
    const { id, code } = created.value.space;
    const steward = created.value.stewardToken;
    const got: string[] = [];
    c.bus.subscribe(subjects.participantPulse(id), (bytes) => got.push(dec.decode(bytes)));
    // One participant on each node: no node's partial alone reaches 3 people; the merge does.
    const people: { x: (typeof c.nodes)[0]; ref: number; token: string }[] = [];
    for (const x of c.nodes) {
      const p = await join(x.host, code);
      await c.run(20);
      x.host.input(p.ref, tap(1, 0.5, 0.5), true);
      people.push({ x, ref: p.ref, token: String(parsed(p.f.list).find((m) => m.t === 'welcome')?.token) });
    }
    await c.run(1000);
    const owner = c.nodes.find((x) => x.node.status(id)?.owned);
    if (!owner) throw new Error('no owner');
    const [b, d] = c.nodes.filter((x) => x !== owner) as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    // The council is made, its members added, the policy proposed and voted on via b and d — never on the owner.
    expect(await b.host.createCouncil(code, steward, { quorum: 'majority', proposalSeconds: 600 })).toMatchObject({ ok: true });
    const m1 = await b.host.addMember(code, steward, 'Ada');
    const m2 = await d.host.addMember(code, steward, 'Bo');
    if (!m1.ok || !m2.ok) throw new Error('members');
    const policy = policyJson({ name: 'calm when the whole room is here', when: 'pulse.count >= 3.0', action: { feedback: { mode: 'calm', minutes: 1 } }, cooldownSeconds: 600 });
    const proposed = await b.host.propose(code, m1.value.memberToken, { policy });
    if (!proposed.ok) throw new Error(proposed.message);
    expect(await b.host.vote(code, m1.value.memberToken, proposed.value.proposal, 'yes')).toMatchObject({ ok: true, value: { status: 'open' } });
    expect(await d.host.vote(code, m2.value.memberToken, proposed.value.proposal, 'yes')).toMatchObject({ ok: true, value: { status: 'adopted' } });
    await c.run(1000);
    // Every node's copy of the council has the adopted policy (read back from storage).
    for (const x of c.nodes) expect((x.host.councilView(id) as { ok: true; value: { policies: { status: string }[] } }).value.policies.map((p) => p.status)).toEqual(['active']);
    const entries = async () => {
      const log = c.log as TransparencyLog;
      const raw = await log.readEntries(0, await log.sync());
      return raw.map((e) => {
        const d0 = decodeEntry(e);
        if (!d0.ok) throw new Error('bad entry');
        return d0.value as { type: string; payload: Record<string, unknown> };
      });
    };
    const types = (await entries()).map((e) => e.type);
    expect(types.filter((t) => t !== 'space.created')).toEqual(['council.created', 'council.member.added', 'council.member.added', 'policy.proposed', 'policy.vote', 'policy.vote', 'policy.adopted', 'policy.fired']);
    // It fired on the owner over the merged pulse it published: the logged hash is that pulse's.
    const fired = (await entries()).find((e) => e.type === 'policy.fired') as unknown as { payload: { pulseSeq: number; pulseHash: string } };
    const seen = got.find((g) => (JSON.parse(g) as { seq: number }).seq === fired.payload.pulseSeq) as string;
    expect(JSON.parse(seen)).toMatchObject({ count: 3 });
    expect(createHash('sha256').update(seen).digest('hex')).toBe(fired.payload.pulseHash);
    // Published once on the bus; every node serves those same bytes, with the feedback in force.
    const last = got.at(-1) as string;
    const view = JSON.parse(last) as { count: number; feedback: { mode: string; policy: { name: string } | null; entry: number } };
    expect(view.count).toBe(3);
    expect(view.feedback).toMatchObject({ mode: 'calm', policy: { name: policy.name } });
    expect(view.feedback.entry).toBe(types.indexOf('policy.fired'));
    for (const x of c.nodes) expect(dec.decode(x.host.latestPulse(id) as Uint8Array)).toBe(last);
    const seqs = got.map((g) => (JSON.parse(g) as { seq: number }).seq);
    expect(new Set(seqs).size).toBe(seqs.length);

    // The owner dies. Its participant resumes on b; the taker restores the council from storage.
    await owner.node.stop({ handOver: false });
    owner.host.detach((people.find((p) => p.x === owner) as { ref: number }).ref);
    const moved = frames();
    const ref = b.host.attach(moved.sink);
    await b.host.resume(ref, (people.find((p) => p.x === owner) as { token: string }).token);
    await c.run(3000);
    const taker = [b, d].find((x) => x.node.status(id)?.owned);
    if (!taker) throw new Error('no taker');
    const after = JSON.parse(got.at(-1) as string) as { seq: number; count: number; feedback: { mode: string; entry: number } };
    expect(after.count).toBe(3);
    // The feedback in force goes on, and so does the cooldown: the policy is still true, but it does not fire again.
    expect(after.feedback).toMatchObject({ mode: 'calm', entry: view.feedback.entry });
    expect((await entries()).filter((e) => e.type === 'policy.fired')).toHaveLength(1);
    // Its minute runs out on the taker's clock: back to mirror, logged once (by expiry) before it shows.
    await c.run(60_000, 50);
    const expiry = (await entries()).filter((e) => e.type === 'feedback.changed');
    expect(expiry).toHaveLength(1);
    expect(expiry[0]?.payload).toMatchObject({ slot: 'feedback', mode: 'mirror', by: 'expiry' });
    expect((JSON.parse(got.at(-1) as string) as { feedback: { mode: string } }).feedback.mode).toBe('mirror');
    // Retiring it via the other survivor goes to the taker; logged once, seen on both.
    const other = taker === b ? d : b;
    const pid = ((other.host.councilView(id) as { ok: true; value: { policies: { id: string }[] } }).value.policies[0] as { id: string }).id;
    expect(await other.host.retirePolicy(code, steward, pid)).toMatchObject({ ok: true });
    await c.run(500);
    expect((await entries()).filter((e) => e.type === 'policy.retired')).toHaveLength(1);
    for (const x of [b, d]) expect((x.host.councilView(id) as { ok: true; value: { policies: { status: string }[] } }).value.policies.map((p) => p.status)).toEqual(['retired']);
    // One consistent log, every act once, as a node opening it afresh rebuilds it.
    const reopened = await TransparencyLog.open({ store: c.logStore as MemoryLogStore, signer: LOG_KEY });
    expect(reopened.size).toBe((await entries()).length);
    for (const x of c.nodes) await x.node.stop();
  });

  it('[K3][R7] under the live release, six people spread over three nodes are released once they are in (the owner reads who changed off the merged grids)', async () => {
    const c = await cluster(3, { machine: {} });
    const created = await (c.nodes[0] as (typeof c.nodes)[0]).host.createSpace({ name: 'live' });
    if (!created.ok) throw new Error(created.message);
    const { id, code } = created.value.space;
    let last = '';
    c.bus.subscribe(subjects.participantPulse(id), (bytes) => {
      last = dec.decode(bytes);
    });
    await c.run(500);
    // The first snapshot is of the empty room; then six join, two on each node: 6 changed ≥ k = 5.
    for (let i = 0; i < 6; i++) {
      const x = c.nodes[i % 3] as (typeof c.nodes)[0];
      const p = await join(x.host, code);
      await c.run(20);
      x.host.input(p.ref, tap(1, ((i % 3) - 1) / 2, i < 3 ? 0.5 : -0.5), true);
    }
    await c.run(2000);
    expect(JSON.parse(last)).toMatchObject({ count: 6, suppressed: false });
    for (const x of c.nodes) await x.node.stop();
  });

  it('[K6] a steward token rotated through one node works on every node at once, and the old one on none', async () => {
    const c = await cluster(3, { log: true });
    const [a, b, d] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0], (typeof c.nodes)[0]];
    const created = await a.host.createSpace({ name: 'rotated' });
    if (!created.ok) throw new Error(created.message);
    const { code } = created.value.space;
    const old = created.value.stewardToken;
    for (const x of [a, b, d]) await join(x.host, code);
    await c.run(1000);
    for (const x of [a, b, d]) expect((await x.host.authorise(code, old)).ok).toBe(true);
    const rotated = await b.host.rotateStewardToken(code, old);
    if (!rotated.ok) throw new Error(rotated.message);
    // The new token, on a node that has not heard of the rotation yet: read from storage.
    expect((await d.host.authorise(code, rotated.value)).ok).toBe(true);
    await c.run(100);
    for (const x of [a, b, d]) {
      expect((await x.host.authorise(code, old)).ok).toBe(false);
      expect((await x.host.authorise(code, rotated.value)).ok).toBe(true);
    }
  });

  it('[K5] nodes number their events apart in the shared storage', async () => {
    const kv = new MemoryKv();
    expect(await allocateSlot(kv, 'x')).toBe(0);
    expect(await allocateSlot(kv, 'y')).toBe(1);
    expect(await allocateSlot(kv, 'x')).toBe(0);
    const storage = new MemoryStorage();
    await storage.createSpace({ id: 's1', code: 'AAAAAAAA', name: 's', status: 'open', capacity: 10, ttlMs: 60_000, stewardTokenHash: 'h', createdAt: 1, closedAt: null });
    const x = nodeStorage(storage, 0);
    const y = nodeStorage(storage, 1);
    await x.appendEvents([{ spaceId: 's1', n: 1, at: 1, kind: 'started', participantId: null, body: null }]);
    await y.appendEvents([{ spaceId: 's1', n: 1, at: 1, kind: 'started', participantId: null, body: null }]);
    const all = await storage.listEvents('s1', 0, 10);
    expect(all.map((e) => e.n)).toEqual([NODE_SLOTS, NODE_SLOTS + 1]);
    // Every node continues above every number any node used.
    expect(await x.lastEventN('s1')).toBe(2);
    expect(await y.getSpace('s1')).toMatchObject({ code: 'AAAAAAAA' });
  });

  it('[K2] the lease decision: create, renew, wait, take only after leaseMs by the watcher’s clock', () => {
    const v = (node: string | null) => ({ node, seq: 0, smoothed: null, at: 0, evalErrors: 0 });
    expect(decideLease('a', null, null, 0, 1500).kind).toBe('create');
    expect(decideLease('a', { revision: 3, value: v('a') }, null, 0, 1500)).toEqual({ kind: 'renew', revision: 3 });
    expect(decideLease('a', { revision: 3, value: v(null) }, null, 0, 1500)).toEqual({ kind: 'take', revision: 3 });
    expect(decideLease('a', { revision: 3, value: v('b') }, { revision: 3, since: 100 }, 1599, 1500).kind).toBe('wait');
    expect(decideLease('a', { revision: 3, value: v('b') }, { revision: 3, since: 100 }, 1600, 1500)).toEqual({ kind: 'take', revision: 3 });
    // A revision that moved restarts the watch, whatever time the owner wrote into it.
    expect(decideLease('a', { revision: 4, value: v('b') }, { revision: 3, since: 100 }, 5000, 1500).kind).toBe('wait');
  });
});
