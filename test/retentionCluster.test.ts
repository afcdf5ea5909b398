/**
 * Retention on a cluster (SPEC V3, K13), against the machine's real NATS (JetStream KV) and
 * PostgreSQL: three nodes — each its own PostgresStorage on one schema and its own KV connection
 * to one bucket, as `attune serve --cluster` nodes are — run the retention job at the same
 * moment; each closed space past its retention is logged (`retention.run`) and purged exactly
 * once, by whichever node claimed it. A claim left by a node that died is taken over once stale;
 * a node whose log fails frees its claim, and another node purges the space. And over three real
 * `attune serve --cluster` processes (bench/support/attuneNodes.ts, as test/clusterProcesses.test.ts):
 * started together, each runs the job at start, and the audited log holds one run per space.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClusterEnv, clusterEnv } from '../bench/support/attuneNodes.ts';
import { command as audit } from '../src/cli/commands/audit.ts';
import { ENTRY_VERSION, encodeEntry } from '../src/log/entry.ts';
import { loadLogKeys } from '../src/log/keyFile.ts';
import { captureIO } from './support/captureIO.ts';
import { NatsKv } from '../src/bus/nats/natsKv.ts';
import type { GovernanceAct, GovernanceSink } from '../src/core/governance.ts';
import { kvRetentionClaims, RETENTION_CLAIM_STALE_MS, retentionClaimKey } from '../src/space/cluster/retentionClaims.ts';
import { RetentionJob } from '../src/space/retentionJob.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { PostgresStorage } from '../src/storage/postgres/postgresStorage.ts';
import { TEST_PG, testSchemas } from './support/postgres.ts';

const NATS = process.env.NATS_URL ?? '127.0.0.1:4222';
const schemas = testSchemas();
const closers: (() => Promise<void>)[] = [];
let env: ClusterEnv | null = null;
afterAll(async () => {
  await env?.dispose();
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
  await schemas.dropAll();
});

/** The cluster's one public log (K9): every node's entries, in append order. */
class SharedLog implements GovernanceSink {
  readonly acts: GovernanceAct[] = [];
  async record(act: GovernanceAct): Promise<void> {
    // Refused here as the real log refuses it (its privacy lint).
    encodeEntry({ v: ENTRY_VERSION, type: act.type, space: act.space, time: act.at, payload: act.payload as never });
    this.acts.push(act);
  }
}

/** A node's view of the shared log that can be made to fail. */
class NodeLog implements GovernanceSink {
  failing = false;
  readonly shared: SharedLog;
  constructor(shared: SharedLog) {
    this.shared = shared;
  }
  async record(act: GovernanceAct): Promise<void> {
    if (this.failing) throw new Error('log down');
    return this.shared.record(act);
  }
}

/** Three nodes over one schema and one KV bucket, with closed spaces past retention. */
async function cluster(spaces: number) {
  const schema = await schemas.fresh('attune_retcl');
  const bucket = `retcl_${process.pid}_${randomBytes(4).toString('hex')}`;
  const scheduler = new ManualScheduler(10_000);
  const shared = new SharedLog();
  const nodes: { id: string; storage: PostgresStorage; kv: NatsKv; log: NodeLog; job: RetentionJob }[] = [];
  for (const id of ['n1', 'n2', 'n3']) {
    const storage = await PostgresStorage.open({ connectionString: TEST_PG, options: `-c search_path=${schema}`, applicationName: `retcl-${id}` });
    const kv = await NatsKv.connect({ servers: NATS, bucket });
    closers.push(() => storage.close(), () => kv.close());
    const log = new NodeLog(shared);
    const job = new RetentionJob({ storage, governance: log, scheduler, retentionMs: 0, claims: kvRetentionClaims({ kv, nodeId: id, now: () => scheduler.now() }), report: () => {} });
    nodes.push({ id, storage, kv, log, job });
  }
  closers.push(async () => {
    await nodes[0]?.kv.destroy();
  });
  const s = nodes[0]?.storage as PostgresStorage;
  for (let k = 0; k < spaces; k++) {
    const id = `sp${k}`;
    await s.createSpace({ id, code: `CODE${k}`, name: id, status: 'open', capacity: 10, ttlMs: 1000, stewardTokenHash: 'h', createdAt: k, closedAt: null, retentionMs: 0 });
    await s.createParticipant({ id: `${id}-p`, spaceId: id, tokenHash: `tok-${id}`, joinedAt: 1, lastSeq: 0, latest: null });
    await s.appendInputs([{ spaceId: id, participantId: `${id}-p`, seq: 1, affect: { valence: 0.5, arousal: 0.5, confidence: 1, source: 'tap', at: 2 }, exposed: false, shown: null }]);
    await s.closeSpace(id, 5_000);
  }
  return { nodes, shared, scheduler, kv: nodes[0]?.kv as NatsKv, storage: s };
}

const logged = (shared: SharedLog) => shared.acts.filter((a) => a.type === 'retention.run').map((a) => a.space);

describe('retention on a cluster (real NATS KV + PostgreSQL)', () => {
  it('[V3][K13] three nodes running the job at once log and purge each due space exactly once', async () => {
    const { nodes, shared, storage } = await cluster(6);
    for (let round = 0; round < 3; round++) {
      const runs = await Promise.all(nodes.map((n) => n.job.run()));
      expect(runs.reduce((f, r) => f + r.failed, 0)).toBe(0);
    }
    expect(logged(shared).sort()).toEqual(['sp0', 'sp1', 'sp2', 'sp3', 'sp4', 'sp5']);
    for (const a of shared.acts) expect(a.payload).toMatchObject({ people: 1, inputs: 1, sealedInputs: 1 });
    for (let k = 0; k < 6; k++) {
      expect((await storage.getSpace(`sp${k}`))?.purgedAt).toBe(10_000);
      expect((await storage.storedCounts(`sp${k}`)).inputs).toBe(0);
    }
  });

  it('[V3][K13] a claim left by a node that died mid-run is taken over once stale; before that nobody runs the space', async () => {
    const { nodes, shared, scheduler, kv } = await cluster(1);
    // A node claimed sp0 and died before it logged anything.
    await kv.create(retentionClaimKey('sp0'), new TextEncoder().encode(JSON.stringify({ node: 'dead', at: scheduler.now() })));
    await Promise.all(nodes.map((n) => n.job.run()));
    expect(logged(shared)).toEqual([]);
    scheduler.advance(RETENTION_CLAIM_STALE_MS + 1);
    await Promise.all(nodes.map((n) => n.job.run()));
    expect(logged(shared)).toEqual(['sp0']);
  });

  it('[V3][K13] a node whose log fails frees its claim: nothing is deleted, and another node purges the space at its next run', async () => {
    const { nodes, shared, storage } = await cluster(1);
    const [a, b] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
    a.log.failing = true;
    expect((await a.job.run()).failed).toBe(1);
    expect((await storage.storedCounts('sp0')).inputs).toBe(1);
    const r = await b.job.run();
    expect(r.purged.map((p) => p.spaceId)).toEqual(['sp0']);
    expect(logged(shared)).toEqual(['sp0']);
  });
});

describe('retention on three attune serve --cluster processes', () => {
  it('[V3][K13] three nodes starting at once each run the job at start: every closed space past retention is logged once and purged', { timeout: 120_000 }, async () => {
    env = await clusterEnv({ prefix: 'rtc' });
    const first = await env.start('n1');
    const codes: string[] = [];
    for (let k = 0; k < 4; k++) {
      const r = await fetch(`${first.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `retention ${k}`, retentionDays: 0 }) });
      expect(r.status).toBe(201);
      const { code, stewardToken } = (await r.json()) as { code: string; stewardToken: string };
      expect((await fetch(`${first.url}/api/spaces/${code}/close`, { method: 'POST', headers: { authorization: `Bearer ${stewardToken}` } })).status).toBe(200);
      codes.push(code);
    }
    await first.stop();
    // All three at once: each node's job runs at its start, over the same due spaces.
    const nodes = await Promise.all([env.start('n1'), env.start('n2'), env.start('n3')]);
    const purged = async () => (await Promise.all(codes.map(async (c) => ((await (await fetch(`${nodes[1]?.url}/api/spaces/${c}`)).json()) as { purgedAt: number | null }).purgedAt))).every((p) => p !== null);
    const end = Date.now() + 30_000;
    while (!(await purged())) {
      if (Date.now() > end) throw new Error(`the spaces were not purged in 30 s:\n${nodes.map((n) => n.output()).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const verifier = (loadLogKeys(join(env.dataDir, 'log-key'))[0] as { verifierKey: string }).verifierKey;
    const io = captureIO();
    expect(await audit.run([nodes[2]?.url as string, '--key', verifier, '--state', join(mkdtempSync(join(tmpdir(), 'attune-rtc-audit-')), 'state.json')], io.io)).toBe(0);
    expect(io.out()).toMatch(/retention\.run 4\b/);
  });
});
