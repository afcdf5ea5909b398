/**
 * `npm run bench:durable` — durable inputs per second one node acknowledges, with the ack p99
 * at or under 100 ms and 250 ms, per storage, every figure beside its baselines from the same
 * run. Never pass/fail.
 *
 * What is measured: inputs stepped into a real SpaceHost (the machine, its effects, the ordered
 * group-commit queue, the durable write, the ack) in this process, without sockets — so the
 * figures isolate the storage path; `npm run bench:scale` measures the same over real
 * WebSockets with `attune load`. The offered rate is stepped up (`--rates`); at each step the
 * inputs go round-robin to `--participants` participants for `--seconds`; an input's latency
 * is from `host.input` to its ack frame. A step "holds" a threshold when its ack p99 is at or
 * under it and at least 95 % of what was offered was acknowledged within the step.
 *
 * Targets (`--targets`, comma-separated):
 *   memory         no durability at all: the host's own ceiling (baseline)
 *   sqlite-loop    SQLite, COMMIT (fsync) on the event loop — how it was before the writer thread (baseline)
 *   sqlite-rows    SQLite, COMMIT on the writer thread, every input its own statements and savepoint (baseline: before set-based runs)
 *   sqlite-ckpt-commit  SQLite, writer thread, set-based, WAL checkpoints inside the COMMIT that passes 1,000 pages (SQLite's wal_autocheckpoint; baseline: before the checkpointer thread)
 *   sqlite         SQLite, COMMIT on the writer thread, input runs set-based, WAL checkpoints on a checkpointer thread (the default)
 *   pg-naive       PostgreSQL, one statement per call, one round trip each (no pipelining, no merged runs, no prepared statements, no commit interval)
 *   pg-pipelined   PostgreSQL, one statement per call, all of a group's statements pipelined
 *   pg-batched     PostgreSQL, merged set-based runs, one round trip per statement
 *   pg-unprepared  PostgreSQL, merged runs and pipelined, each statement parsed and planned every time (baseline: before named statements)
 *   pg-eager       PostgreSQL, merged runs, pipelined, prepared, each group sent as soon as the last returned (baseline: before the 10 ms commit interval)
 *   pg             PostgreSQL, merged runs, pipelined, named prepared statements, groups ≥ 10 ms apart (the default)
 * COPY is not a target: it cannot apply the seq rule or the event-number checks itself (it
 * would need a staging table and a second statement per group), pg needs another package for it
 * (pg-copy-streams) and cannot pipeline it.
 *
 * Usage:
 *   npm run bench:durable
 *   npm run bench:durable -- --rates 5000,10000,20000,40000 --seconds 5 --targets sqlite,pg
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { LocalBus } from '../src/bus/local/localBus.ts';
import { MemoryGovernance } from '../src/server/createServer.ts';
import { RealScheduler } from '../src/space/scheduler.ts';
import { SpaceHost } from '../src/space/spaceHost.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';
import type { Storage } from '../src/storage/port.ts';
import { defaultKeyStoreUrl, PostgresStorage } from '../src/storage/postgres/postgresStorage.ts';
import { openDatabase } from '../src/storage/sqlite/openDatabase.ts';
import { SqliteStorage } from '../src/storage/sqlite/sqliteStorage.ts';
import { cpuSeconds } from './support/procCpu.ts';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '2000,5000,10000,20000,30000,40000,60000' },
    seconds: { type: 'string', default: '4' },
    participants: { type: 'string', default: '5000' },
    targets: { type: 'string', default: 'memory,sqlite-loop,sqlite-rows,sqlite-ckpt-commit,sqlite,pg-naive,pg-pipelined,pg-batched,pg-unprepared,pg-eager,pg' },
    pg: { type: 'string', default: process.env.ATTUNE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
  strict: true,
});
const RATES = String(values.rates).split(',').map(Number);
const SECONDS = Number(values.seconds);
const PARTICIPANTS = Number(values.participants);
const PG = String(values.pg);
const log = (s: string) => process.stdout.write(`${s}\n`);
const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');

interface Opened {
  readonly storage: Storage;
  readonly groups: () => number;
  readonly done: () => Promise<void>;
  /** The size of the database's WAL file, bytes (SQLite only). */
  readonly wal?: () => number;
  /** Processes outside this one that do the storage's work (PostgreSQL backends). */
  readonly servers?: () => Promise<number[]>;
}

interface Target {
  readonly name: string;
  readonly open: () => Promise<Opened>;
}

/** CPU seconds of this process's main thread, of its SQLite writer thread and of its checkpointer thread (NaN when absent), from /proc. */
function threadCpu(): { main: number; writer: number; checkpointer: number } {
  let writer = Number.NaN;
  let checkpointer = Number.NaN;
  try {
    for (const t of readdirSync('/proc/self/task')) {
      // Thread names are cut to 15 characters: attune-sqlite-w(riter), attune-sqlite-c(heckpointer).
      const comm = readFileSync(`/proc/self/task/${t}/comm`, 'utf8');
      if (comm.startsWith('attune-sqlite-w')) writer = cpuSeconds(Number(t), `/proc/self/task/${t}/stat`);
      if (comm.startsWith('attune-sqlite-c')) checkpointer = cpuSeconds(Number(t), `/proc/self/task/${t}/stat`);
    }
  } catch {
    /* not Linux */
  }
  return { main: cpuSeconds(process.pid, `/proc/self/task/${process.pid}/stat`), writer, checkpointer };
}

async function pgSchema(): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `attune_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await admin(`CREATE SCHEMA ${name}`);
  // The key store's schema of the same name sits in the sibling database (S18).
  const dropKeys = async () => {
    const c = new pg.Client({ connectionString: defaultKeyStoreUrl(PG) });
    await c.connect().then(() => c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).catch(() => {});
    await c.end().catch(() => {});
  };
  return { name, drop: () => admin(`DROP SCHEMA IF EXISTS ${name} CASCADE`).then(dropKeys) };
}

const pgTarget = (name: string, o: { batched: boolean; pipeline: boolean; prepared?: boolean; minCommitIntervalMs?: number }): Target => ({
  name,
  open: async () => {
    const schema = await pgSchema();
    const app = schema.name;
    const storage = await PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema.name}`, applicationName: app, ...o });
    const servers = async () => {
      const c = new pg.Client({ connectionString: PG });
      await c.connect();
      // The writer and the reader (the pool's idle connections come and go).
      const r = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name IN ($1, $2)', [`${app}-writer`, `${app}-reader`]);
      await c.end();
      return r.rows.map((x) => x.pid);
    };
    return { storage, groups: () => storage.commits, done: () => schema.drop(), servers };
  },
});

const sqliteTarget = (name: string, commitOn: 'thread' | 'loop', setBased = true, checkpoints: 'thread' | 'commit' = 'thread'): Target => ({
  name,
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-durable-'));
    const db = openDatabase(join(dir, 'bench.db'));
    const storage = new SqliteStorage(db, { commitOn, setBased, checkpoints });
    return {
      storage,
      groups: () => storage.commits,
      wal: () => {
        try {
          return statSync(join(dir, 'bench.db-wal')).size;
        } catch {
          return 0;
        }
      },
      done: async () => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

const TARGETS: Record<string, Target> = {
  memory: {
    name: 'memory (no durability; ceiling)',
    open: async () => {
      const storage = new MemoryStorage();
      return { storage, groups: () => storage.commits, done: async () => {} };
    },
  },
  'sqlite-loop': sqliteTarget('SQLite, COMMIT on the event loop (before)', 'loop'),
  'sqlite-rows': sqliteTarget('SQLite, writer thread, per-input statements', 'thread', false, 'commit'),
  'sqlite-ckpt-commit': sqliteTarget('SQLite, writer thread, checkpoints on commit', 'thread', true, 'commit'),
  sqlite: sqliteTarget('SQLite, COMMIT on the writer thread', 'thread'),
  'pg-naive': pgTarget('PostgreSQL, per call, not pipelined, unprepared, no interval', { batched: false, pipeline: false, prepared: false, minCommitIntervalMs: 0 }),
  'pg-pipelined': pgTarget('PostgreSQL, per call, pipelined', { batched: false, pipeline: true }),
  'pg-batched': pgTarget('PostgreSQL, merged runs, not pipelined', { batched: true, pipeline: false }),
  'pg-unprepared': pgTarget('PostgreSQL, merged runs + pipelined, unprepared', { batched: true, pipeline: true, prepared: false }),
  'pg-eager': pgTarget('PostgreSQL, merged + pipelined + prepared, no interval', { batched: true, pipeline: true, minCommitIntervalMs: 0 }),
  pg: pgTarget('PostgreSQL, merged + pipelined + prepared + 10 ms (default)', { batched: true, pipeline: true }),
};

/** The value at quantile q of sorted `xs`. */
const quantile = (xs: readonly number[], q: number) => (xs.length === 0 ? Number.NaN : (xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number));

interface Step {
  readonly offered: number;
  readonly acked: number;
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpu: number;
  readonly meanGroup: number;
  /** This process's CPU (every thread) per acknowledged input, µs. */
  readonly usPerInput: number;
  /** The database server's backends' CPU per acknowledged input, µs (PostgreSQL only). */
  readonly dbUsPerInput: number;
  /** Of usPerInput: the main thread's, and the SQLite writer thread's (NaN without one). */
  readonly mainUs: number;
  readonly writerUs: number;
  /** Inputs the host refused with OVERLOADED (the write backlog past its bounds, W5b). */
  readonly refused: number;
  /** Of usPerInput: the SQLite checkpointer thread's (NaN without one). */
  readonly checkpointerUs: number;
}

async function runTarget(t: Target): Promise<Step[]> {
  const { storage, groups, done, servers, wal } = await t.open();
  const pids = servers ? await servers() : [];
  const dbCpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const scheduler = new RealScheduler();
  const host = new SpaceHost({ storage, bus: new LocalBus(), governance: new MemoryGovernance(), scheduler, capacity: PARTICIPANTS + 10, maxCapacity: PARTICIPANTS + 10, machine: { collective: false, release: { minCohort: 3 } } });
  await host.start();
  const created = await host.createSpace({ name: 'durable bench', capacity: PARTICIPANTS + 10 });
  if (!created.ok) throw new Error(created.message);
  const code = created.value.space.code;
  const sentAt = new Map<string, number>();
  let latencies: number[] = [];
  let acked = 0;
  const refs: number[] = [];
  for (let i = 0; i < PARTICIPANTS; i++) {
    const me = i;
    const ref = host.attach({
      send: (frame) => {
        if (typeof frame !== 'string' || !frame.startsWith('{"t":"ack","seq":')) return;
        const seq = Number.parseInt(frame.slice(17), 10);
        const key = `${me}:${seq}`;
        const t0 = sentAt.get(key);
        if (t0 === undefined) return;
        sentAt.delete(key);
        latencies.push(performance.now() - t0);
        acked++;
      },
      close: () => {},
      welcomed: () => {},
    });
    refs.push(ref);
  }
  // Joins in batches (a join storm is one group commit each). Timed: on PostgreSQL each group's
  // new sealing keys commit in the key store (S18) before the group, one more round trip.
  const joinStart = performance.now();
  for (let i = 0; i < PARTICIPANTS; i += 1000) {
    const batch = refs.slice(i, i + 1000);
    const r = await Promise.all(batch.map((ref) => host.join(ref, code, 'participant', true)));
    if (r.some((x) => !x.ok)) throw new Error('a join failed');
  }
  await host.drain();
  const joinMs = performance.now() - joinStart;
  log(`  ${PARTICIPANTS} joins, durable, in batches of 1000: ${fmt(joinMs)} ms (${fmt((joinMs * 1000) / PARTICIPANTS, 1)} µs per join)`);
  const seqs = new Array<number>(PARTICIPANTS).fill(0);
  let next = 0;
  const steps: Step[] = [];
  for (const rate of RATES) {
    latencies = [];
    acked = 0;
    sentAt.clear();
    const groups0 = groups();
    const cpu0 = process.cpuUsage();
    const db0 = dbCpu();
    const th0 = threadCpu();
    const t0 = performance.now();
    let offered = 0;
    let refused = 0;
    // Offer inputs on a 5 ms grid, catching up to the rate by the clock.
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = performance.now() - t0;
        const due = Math.min(Math.floor((rate * Math.min(elapsed, SECONDS * 1000)) / 1000), rate * SECONDS);
        for (; offered < due; offered++) {
          const p = next;
          next = (next + 1) % PARTICIPANTS;
          const seq = (seqs[p] as number) + 1;
          seqs[p] = seq;
          sentAt.set(`${p}:${seq}`, performance.now());
          const v = Math.sin(offered) * 0.9;
          const r = host.input(refs[p] as number, { t: 'input', seq, valence: v, arousal: -v, confidence: 1, source: 'tap' }, false);
          if (!r.ok) {
            // Refused, not queued: past the write backlog's bounds (W5b) the host answers
            // OVERLOADED. The input is not acknowledged (so the step counts it as not held) and its
            // seq was never accepted: the participant's next input takes it again, as a client's would.
            if (r.code !== 'OVERLOADED') throw new Error(`input refused: ${r.code} ${r.message}`);
            sentAt.delete(`${p}:${seq}`);
            seqs[p] = seq - 1;
            refused++;
          }
        }
        if (elapsed >= SECONDS * 1000) resolve();
        else setTimeout(tick, 5);
      };
      tick();
    });
    const window = performance.now() - t0;
    const ackedInWindow = acked;
    // Let the rest commit (latencies keep counting: a late ack is a slow ack).
    const deadline = performance.now() + 15_000;
    while (sentAt.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const cpu = process.cpuUsage(cpu0);
    const dbSeconds = dbCpu() - db0;
    const th = threadCpu();
    const sorted = latencies.slice().sort((a, b) => a - b);
    const g = groups() - groups0;
    steps.push({
      offered: rate,
      refused,
      acked: ackedInWindow,
      perSec: (ackedInWindow * 1000) / window,
      p50: quantile(sorted, 0.5),
      p99: sentAt.size > 0 ? Number.POSITIVE_INFINITY : quantile(sorted, 0.99),
      cpu: (cpu.user + cpu.system) / 1000 / (performance.now() - t0),
      meanGroup: g > 0 ? (rate * SECONDS) / g : Number.NaN,
      usPerInput: (cpu.user + cpu.system) / Math.max(1, acked),
      dbUsPerInput: pids.length > 0 ? (dbSeconds * 1e6) / Math.max(1, acked) : Number.NaN,
      mainUs: ((th.main - th0.main) * 1e6) / Math.max(1, acked),
      writerUs: ((th.writer - (Number.isNaN(th0.writer) ? 0 : th0.writer)) * 1e6) / Math.max(1, acked),
      checkpointerUs: ((th.checkpointer - (Number.isNaN(th0.checkpointer) ? 0 : th0.checkpointer)) * 1e6) / Math.max(1, acked),
    });
    const s = steps.at(-1) as Step;
    log(`  ${fmt(rate).padStart(6)}/s offered → ${fmt(s.perSec).padStart(6)}/s acked in the step, ack p50 ${fmt(s.p50, 1).padStart(7)} ms, p99 ${fmt(s.p99, 1).padStart(7)} ms, process CPU ${fmt(100 * s.cpu).padStart(3)} % (${fmt(s.usPerInput, 1)} µs/input: main thread ${fmt(s.mainUs, 1)}${Number.isNaN(s.writerUs) ? '' : `, writer thread ${fmt(s.writerUs, 1)}`}${Number.isNaN(s.checkpointerUs) ? '' : `, checkpointer ${fmt(s.checkpointerUs, 1)}`}${pids.length > 0 ? `, database ${fmt(s.dbUsPerInput, 1)} µs/input` : ''}), ${fmt(s.meanGroup, 0)} inputs per commit${wal ? `, WAL ${fmt(wal() / 1e6, 1)} MB` : ''}${s.refused > 0 ? `, ${fmt(s.refused)} refused (OVERLOADED)` : ''}, load ${fmt(loadavg()[0] as number, 1)}`);
    // Far past saturation: the next steps would only queue more.
    if (!(s.p99 <= 2000) || s.perSec < 0.5 * rate) break;
  }
  await host.stop();
  await storage.close();
  await done();
  return steps;
}

/** The highest offered rate whose step held `ms` (p99 ≤ ms, ≥ 95 % acknowledged in the step). */
function held(steps: readonly Step[], ms: number): number {
  let best = 0;
  for (const s of steps) if (s.p99 <= ms && s.perSec >= 0.95 * s.offered) best = Math.max(best, s.offered);
  return best;
}

log(`bench:durable — load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores at start (under load every rate is a floor; the µs per input are the steadier figure)`);
log(`bench:durable — ${PARTICIPANTS} participants, ${SECONDS} s per step, rates ${RATES.join(', ')}/s; inputs into a SpaceHost in process (no sockets); node ${process.version}`);
const results: [string, Step[]][] = [];
for (const key of String(values.targets).split(',')) {
  const t = TARGETS[key];
  if (!t) throw new Error(`unknown target ${key}; one of ${Object.keys(TARGETS).join(', ')}`);
  log(`\n${t.name}`);
  results.push([t.name, await runTarget(t)]);
}
log('\nDurable inputs/s held on one node (highest offered step with ≥ 95 % acknowledged in the step):');
log(`${'storage'.padEnd(50)} ${'p99 ≤ 100 ms'.padStart(14)} ${'p99 ≤ 250 ms'.padStart(14)}`);
const base = results.find(([n]) => n.startsWith('SQLite, COMMIT on the event loop'));
for (const [name, steps] of results) {
  const a = held(steps, 100);
  const b = held(steps, 250);
  const ratio = base && held(base[1], 250) > 0 ? `  (${fmt(b / held(base[1], 250), 1)}× the on-loop baseline at 250 ms)` : '';
  log(`${name.padEnd(50)} ${fmt(a).padStart(14)} ${fmt(b).padStart(14)}${ratio}`);
}
log('\n(A step is only as high as --rates goes: the top rate "held" means at least that much.)');
log('\nCost per acknowledged input at the highest step each storage held at 250 ms (or its first step):');
log(`${'storage'.padEnd(50)} ${'attune µs'.padStart(10)} ${'database µs'.padStart(12)} ${'inputs/commit'.padStart(14)}`);
for (const [name, steps] of results) {
  const b = held(steps, 250);
  const s = steps.find((x) => x.offered === b) ?? steps[0];
  if (!s) continue;
  log(`${name.padEnd(50)} ${fmt(s.usPerInput, 1).padStart(10)} ${fmt(s.dbUsPerInput, 1).padStart(12)} ${fmt(s.meanGroup).padStart(14)}`);
}
