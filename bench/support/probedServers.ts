/**
 * The two servers the memory figures compare, each in its own process with
 * bench/support/memoryProbe.ts preloaded (`--expose-gc --import …`), so a benchmark can ask
 * either for its memory after full collections (and a heap snapshot) at any point of a run:
 *
 * - `attune serve` on SQLite in a temporary directory, with `spaces` spaces created over HTTP;
 * - the plain-`ws` baseline (bench/support/cadenceWsServer.ts), broadcasting the same bytes.
 *
 * `env` is added to the server's environment (e.g. `MALLOC_ARENA_MAX=2`), the same for both.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MemoryReading, MemoryRequest } from './memoryProbe.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PROBE = join(import.meta.dirname, 'memoryProbe.ts');

/** A running, probed server. */
export interface ProbedServer {
  readonly target: 'attune' | 'ws';
  readonly wsUrl: string;
  readonly codes: readonly string[];
  readonly pid: number;
  /** Memory after full collections (memoryProbe.ts; a snapshot, smaps or the reduced reading as asked). */
  memory(o?: MemoryRequest): Promise<MemoryReading>;
  stop(): Promise<void>;
}

/** Options of {@link startProbedServer}. */
export interface ProbedServerOptions {
  readonly spaces: number;
  /** Each space's capacity (attune). */
  readonly capacity: number;
  readonly participantHz?: number;
  readonly displayHz?: number;
  /** The plain-ws server pads its pulses to this size (attune's, measured in the same run). */
  readonly pulseBytes?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** More Node flags for the server (e.g. `--max-semi-space-size=1`), the same for both. */
  readonly nodeArgs?: readonly string[];
  /** Run attune from another checkout (an A/B against an older commit). */
  readonly attuneRoot?: string;
  /** attune's `--db` (default a SQLite file in a temporary directory; `:memory:` commits on the main thread, with no writer thread). */
  readonly attuneDb?: string;
  /**
   * attune: add the Node flags `attune serve` starts with by default (src/cli/nodeFlags.ts of the
   * checkout run, when it has one) — bin/attune.js re-executes itself with them, but not when it
   * has an IPC channel, as here — so the bench measures attune as it runs. `false`: V8's own
   * defaults (the A/B of the flags). A flag of the same name in `nodeArgs` wins either way.
   */
  readonly serveNodeFlags?: boolean;
  /** Raise the server's open-file limit to this (sh `ulimit -n`) when above the soft limit. */
  readonly fileLimit?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function ask(child: ChildProcess, o: MemoryRequest = {}): Promise<MemoryReading> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the memory probe did not answer in 120 s')), 120_000);
    const onMsg = (m: { ev?: string }) => {
      if (m.ev !== 'mem') return;
      clearTimeout(timer);
      child.off('message', onMsg);
      resolve(m as MemoryReading);
    };
    child.on('message', onMsg);
    child.send({ cmd: 'mem', ...o });
  });
}

function spawnProbed(script: string, args: readonly string[], o: ProbedServerOptions): ChildProcess {
  const node = [...(o.nodeArgs ?? []), '--expose-gc', '--import', PROBE, script, ...args];
  const env = { ...process.env, ATTUNE_LOG_LEVEL: process.env.ATTUNE_LOG_LEVEL ?? 'warn', ...o.env };
  const stdio: ['ignore', 'pipe', 'inherit', 'ipc'] = ['ignore', 'pipe', 'inherit', 'ipc'];
  if (o.fileLimit) return spawn('sh', ['-c', `ulimit -n ${o.fileLimit} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...node], { stdio, env });
  return spawn(process.execPath, node, { stdio, env });
}

/** Starts a probed attune or plain-ws server; resolves once it listens (and attune's spaces exist). */
export async function startProbedServer(target: 'attune' | 'ws', o: ProbedServerOptions): Promise<ProbedServer> {
  const participantHz = o.participantHz ?? 2;
  const displayHz = o.displayHz ?? 20;
  if (target === 'ws') {
    const child = spawnProbed(join(ROOT, 'bench', 'support', 'cadenceWsServer.ts'), [JSON.stringify({ participantHz, displayHz, pulseBytes: o.pulseBytes ?? 1500 })], o);
    child.stdout?.resume();
    const ready = await new Promise<{ url: string }>((resolve, reject) => {
      const onMsg = (m: { ready?: boolean; url?: string }) => {
        if (!m.ready) return;
        child.off('message', onMsg);
        resolve(m as { url: string });
      };
      child.on('message', onMsg);
      child.once('exit', (c) => reject(new Error(`plain ws server exited (${c})`)));
    });
    return {
      target,
      wsUrl: ready.url,
      codes: Array.from({ length: o.spaces }, (_, i) => `BENCH${String(i).padStart(3, '0')}`),
      pid: child.pid as number,
      memory: (o) => ask(child, o),
      async stop() {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.send({ cmd: 'exit' });
        await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'attune-memory-'));
  const root = o.attuneRoot ?? ROOT;
  const args = ['serve', '--db', o.attuneDb ?? join(dir, 'attune.db'), '--no-build', '--port', '0', '--capacity', String(o.capacity), '--participant-hz', String(participantHz), '--display-hz', String(displayHz)];
  const flagsModule = join(root, 'src', 'cli', 'nodeFlags.ts');
  let nodeArgs = o.nodeArgs ?? [];
  let env = o.env ?? {};
  if (o.serveNodeFlags !== false && existsSync(flagsModule)) {
    // What the launcher would re-execute with; a probed server has an IPC channel, so it does not.
    // A tree from before serve's environment (`--attune-root`) has only serveRelaunchFlags.
    const m = (await import(flagsModule)) as Partial<typeof import('../../src/cli/nodeFlags.ts')>;
    const add = m.serveLaunchForChild?.(nodeArgs, { ...process.env, ...env }) ?? { flags: m.serveRelaunchFlags?.(['serve'], nodeArgs, process.env.NODE_OPTIONS ?? '', { hasIpc: false, canExec: true }) ?? [], env: {} };
    nodeArgs = [...nodeArgs, ...add.flags];
    env = { ...add.env, ...env };
  }
  const child = spawnProbed(join(root, 'bin', 'attune.js'), args, { ...o, nodeArgs, env });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`attune serve did not start: ${out}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += String(d);
      const m = /attune is running at (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.once('exit', (c) => reject(new Error(`attune serve exited (${c}): ${out}`)));
  });
  child.stdout?.resume();
  const codes: string[] = [];
  for (let i = 0; i < o.spaces; i++) {
    const r = await fetch(`${url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `memory ${i + 1}`, capacity: o.capacity }) });
    const j = (await r.json()) as { code?: string; error?: { message: string } };
    if (!j.code) throw new Error(`creating space ${i + 1} failed: ${j.error?.message ?? r.status}`);
    codes.push(j.code);
  }
  return {
    target,
    wsUrl: `${url.replace('http', 'ws')}/ws`,
    codes,
    pid: child.pid as number,
    memory: (o) => ask(child, o),
    async stop() {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
