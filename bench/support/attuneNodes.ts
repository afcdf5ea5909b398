/**
 * Real `attune serve` processes for cluster tests and benchmarks (SPEC §K): each node its own
 * process on an ephemeral port, all on one NATS (a cluster name of their own: subject prefix and
 * KV bucket) and one PostgreSQL schema of their own, which {@link clusterEnv} creates and
 * {@link ClusterEnv.dispose} drops. `kill()` is `kill -9`.
 *
 * ATTUNE_NODE_ARGS adds node flags to every node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof";
 * with it set, `dispose` stops the nodes with SIGTERM first (up to 15 s), so that a profile is
 * written at exit, before it kills what still runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { NatsKv } from '../../src/bus/nats/natsKv.ts';
import { serveLaunchForChild } from '../../src/cli/nodeFlags.ts';
import { defaultKeyStoreUrl } from '../../src/storage/postgres/postgresKeyStore.ts';
import type { MemoryReading } from './memoryProbe.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE_ARGS = (process.env.ATTUNE_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** The machine's services (override with ATTUNE_TEST_PG / NATS_URL). */
export const PG_URL = process.env.ATTUNE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NATS_URL = `nats://${process.env.NATS_URL ?? '127.0.0.1:4222'}`;

/** One running node. */
export interface AttuneNode {
  readonly id: string;
  readonly url: string;
  readonly wsUrl: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** stdout and stderr so far. */
  readonly output: () => string;
  /** kill -9. */
  kill(): void;
  /** With `probe` (see {@link ClusterEnv.start}): memory after full collections (bench/support/memoryProbe.ts). */
  memory(): Promise<MemoryReading>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** A schema, a cluster name and a data dir of one run. */
export interface ClusterEnv {
  readonly name: string;
  readonly schema: string;
  /** The PostgreSQL URL with the run's schema on its search path (`--db`). */
  readonly db: string;
  readonly dataDir: string;
  readonly nodes: AttuneNode[];
  /**
   * Starts a node (`attune serve --cluster … --db … --node-id id`), resolving once it listens.
   * With `probe`, the node runs with bench/support/memoryProbe.ts preloaded (`--expose-gc`), so
   * {@link AttuneNode.memory} answers. `env` is added to the node's environment.
   */
  start(id: string, extra?: readonly string[], o?: { readonly probe?: boolean; readonly env?: Readonly<Record<string, string>> }): Promise<AttuneNode>;
  /** Kills what still runs, drops the schema and the KV bucket. */
  dispose(): Promise<void>;
}

/** Runs one SQL statement as the admin of the test database. */
export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** Creates a run's schema, cluster name and data dir. */
export async function clusterEnv(o: { readonly prefix?: string; readonly database?: 'postgres' | 'sqlite' } = {}): Promise<ClusterEnv> {
  const tag = `${o.prefix ?? 'cl'}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const schema = tag;
  const name = tag;
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-cluster-'));
  const sqlite = o.database === 'sqlite';
  if (!sqlite) await adminQuery(`CREATE SCHEMA ${schema}`);
  const db = sqlite ? join(dataDir, 'attune.db') : `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const nodes: AttuneNode[] = [];
  const start = async (id: string, extra: readonly string[] = [], so: { readonly probe?: boolean; readonly env?: Readonly<Record<string, string>> } = {}): Promise<AttuneNode> => {
    const probe = so.probe === true;
    // A probed node has an IPC channel, so its launcher does not re-execute with serve's flags and
    // environment (src/cli/nodeFlags.ts): it is given them here, to run as an unprobed node does.
    const serve = probe ? serveLaunchForChild(NODE_ARGS, { ...process.env, ...so.env }) : { flags: [], env: {} };
    const args = [...NODE_ARGS, ...serve.flags, ...(probe ? ['--expose-gc', '--import', join(ROOT, 'bench', 'support', 'memoryProbe.ts')] : []), join(ROOT, 'bin', 'attune.js'), 'serve', '--port', '0', '--no-build', '--db', db, '--data-dir', dataDir, ...(sqlite ? [] : ['--cluster', NATS_URL, '--cluster-name', name, '--node-id', id]), ...extra];
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: probe ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'], env: { ...process.env, ATTUNE_LOG_LEVEL: process.env.ATTUNE_LOG_LEVEL ?? 'warn', ...serve.env, ...so.env } });
    let out = '';
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const url = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`node ${id} did not start in 30 s:\n${out}`)), 30_000);
      const onData = (d: Buffer) => {
        out += String(d);
        const m = /attune is running at (http:\/\/[^\s]+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          res(m[1] as string);
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', (d: Buffer) => {
        out += String(d);
      });
      exited.then((code) => {
        clearTimeout(timer);
        rej(new Error(`node ${id} exited (${code}) before it listened:\n${out}`));
      });
    });
    const node: AttuneNode = {
      id,
      url,
      wsUrl: `${url.replace('http', 'ws')}/ws`,
      pid: proc.pid as number,
      proc,
      output: () => out,
      kill: () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      },
      memory: () =>
        new Promise<MemoryReading>((res, rej) => {
          if (!probe || !proc.connected) return rej(new Error(`node ${id} runs without the memory probe`));
          const on = (m: { ev?: string }) => {
            if (m.ev !== 'mem') return;
            proc.off('message', on);
            res(m as MemoryReading);
          };
          proc.on('message', on);
          proc.send({ cmd: 'mem' });
        }),
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        await exited;
      },
      exited,
    };
    nodes.push(node);
    return node;
  };
  return {
    name,
    schema,
    db,
    dataDir,
    nodes,
    start,
    async dispose() {
      if (NODE_ARGS.length > 0) await Promise.all(nodes.map((n) => Promise.race([n.stop(), new Promise((r) => setTimeout(r, 15_000))])));
      for (const n of nodes) n.kill();
      await Promise.all(nodes.map((n) => n.exited));
      if (!sqlite) {
        await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
        // The key store's schema of the same name in the sibling database (S18).
        const keys = new pg.Client({ connectionString: defaultKeyStoreUrl(PG_URL) });
        await keys.connect().then(() => keys.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).catch(() => {});
        await keys.end().catch(() => {});
        const kv = await NatsKv.connect({ servers: NATS_URL.slice('nats://'.length), bucket: `${name}_cluster` }).catch(() => null);
        await kv?.destroy().catch(() => {});
        await kv?.close();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
