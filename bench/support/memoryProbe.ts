/**
 * Preloaded into a server a memory benchmark measures (`node --expose-gc --import
 * bench/support/memoryProbe.ts …`): answers `{ cmd: 'mem', snapshot?, reduce? }` on the IPC channel
 * with the process's memory after full garbage collections, and writes a heap snapshot when asked.
 * The server itself is untouched: attune's `serve` and the plain-ws baseline run as they always do.
 *
 * With `reduce`, a second reading follows the first, after memory-reducing collections (`gc()`'s
 * `last-resort` flavour: V8's CollectAllAvailableGarbage, as under memory pressure; its memory reducer
 * reduces memory the same way once a process's allocation rate falls). A plain full collection frees objects
 * but keeps the freed pages resident in V8's page pool and the heap at its committed size: after
 * one, a process that had held 2 million small objects and kept a tenth of them stayed at 227 MiB
 * RSS with 147 MiB committed; the memory-reducing one took it to 73 MiB and 19 MiB (scratch script,
 * 2026-12-02). How much the pool holds depends on the garbage's peak before the reading, so the
 * first reading moves with GC timing (bench:memory at 15,000: ≈ 48 MiB of V8 pages resident beyond
 * every isolate's committed heap, in the smaps); the reduced one is what the process keeps.
 *
 * Why several collections a few turns apart: one `gc()` leaves objects whose finalisers or weak
 * callbacks (sockets' handles, ws's FinalizationRegistry-free paths, Buffers' backing stores) run
 * after it; the next collection frees what those released. Three rounds, each after a macrotask,
 * reach a fixed point here (the third frees < 0.1 % of the heap).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

/** What the probe reports, bytes. */
export interface MemoryReading {
  readonly ev: 'mem';
  /** VmRSS, and its anonymous (malloc, V8 heap) and file-backed (code, mapped files) parts. */
  readonly rss: number;
  readonly rssAnon: number;
  readonly rssFile: number;
  /** V8's heap: committed pages, and the bytes of live objects in them. */
  readonly heapTotal: number;
  readonly heapUsed: number;
  /** Memory outside the V8 heap that V8 is told about (Buffers, ArrayBuffers' backing stores). */
  readonly external: number;
  readonly arrayBuffers: number;
  /** V8's malloc'd memory (its own C++ side: compiler zones, handles' tables…). */
  readonly mallocedMemory: number;
  /** V8's young generation (semi-spaces), committed: it grows under allocation pressure up to
   * `--max-semi-space-size` and does not scale with connections, so a growth between two readings
   * is a step, not a cost per participant. */
  readonly newSpace: number;
  /** Worker threads' V8 heaps (committed; e.g. attune's SQLite writer thread): native memory to the main isolate. */
  readonly workersHeap: number;
  /** Resident bytes of glibc's main malloc arena (the `[heap]` mapping, grown by brk). */
  readonly brkHeap: number;
  /**
   * Resident bytes of anonymous mappings that start on a 64 MiB boundary: glibc's other malloc
   * arenas (one per thread that mallocs, up to 8 × cores, each heap one aligned 64 MiB
   * reservation) — and whatever else happens to be so aligned (V8's young generation can be).
   */
  readonly threadArenas: number;
  /** Where the snapshot went, when one was asked for. */
  readonly snapshot: string | null;
  /** With `reduce`: the same reading after memory-reducing collections of the main isolate (see above). */
  readonly reduced?: MemoryFigures;
}

/** A reading's figures alone (what is subtracted between two readings). */
export type MemoryFigures = Omit<MemoryReading, 'ev' | 'snapshot' | 'reduced'>;

/** What a reading is asked for: a heap snapshot written to `snapshot` after it, a copy of /proc/self/smaps at `smaps`, the second reading with `reduce`. */
export interface MemoryRequest {
  readonly snapshot?: string;
  readonly smaps?: string;
  readonly reduce?: boolean;
}

const gc = (globalThis as { gc?: (o?: { type: 'major'; execution: 'sync'; flavor: 'regular' | 'last-resort' }) => void }).gc;

function status(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** Resident bytes of the `[heap]` mapping and of glibc's per-thread arenas, from /proc/self/smaps. */
function mallocResidency(): { brkHeap: number; threadArenas: number } {
  let brkHeap = 0;
  let threadArenas = 0;
  const ARENA = 64 * 1024 * 1024; // HEAP_MAX_SIZE on 64-bit glibc: a thread arena is one aligned 64 MiB reservation
  let kind: 'brk' | 'arena' | null = null;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const start = Number.parseInt(head[1] as string, 16);
      const anon = head[4] === '0' && !(head[5] ?? '').startsWith('/');
      kind = (head[5] ?? '').trim() === '[heap]' ? 'brk' : anon && head[3] === 'rw-p' && start % ARENA === 0 ? 'arena' : null;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind) {
      if (kind === 'brk') brkHeap += Number(rss[1]) * 1024;
      else threadArenas += Number(rss[1]) * 1024;
      kind = null;
    }
  }
  return { brkHeap, threadArenas };
}

function workersHeap(): number {
  const r = process.report?.getReport() as unknown as { workers?: { javascriptHeap?: { totalCommittedMemory?: number } }[] } | undefined;
  return (r?.workers ?? []).reduce((a, w) => a + (w.javascriptHeap?.totalCommittedMemory ?? 0), 0);
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Two memory-reducing collections of the main isolate, a macrotask apart (the second frees what the first's callbacks released). */
async function reduce(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    await new Promise((r) => setTimeout(r, 50));
  }
}

function read(): MemoryFigures {
  const u = process.memoryUsage();
  const h = getHeapStatistics();
  return { rss: status('VmRSS'), rssAnon: status('RssAnon'), rssFile: status('RssFile'), heapTotal: u.heapTotal, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, mallocedMemory: h.malloced_memory, newSpace: getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')?.physical_space_size ?? 0, workersHeap: workersHeap(), ...mallocResidency() };
}

process.on('message', (m: MemoryRequest & { cmd?: string }) => {
  if (m.cmd !== 'mem') return;
  void (async () => {
    await settle();
    // A copy of the process's mappings at the reading, for a closer look (`--smaps DIR`).
    if (m.smaps) writeFileSync(m.smaps, readFileSync('/proc/self/smaps', 'utf8'));
    const reading = read();
    const snapshot = m.snapshot ? writeHeapSnapshot(m.snapshot) : null;
    let reduced: MemoryFigures | undefined;
    if (m.reduce) {
      await reduce();
      if (m.smaps) writeFileSync(m.smaps.replace(/(\.smaps)?$/, '.reduced.smaps'), readFileSync('/proc/self/smaps', 'utf8'));
      reduced = read();
    }
    process.send?.({ ev: 'mem', ...reading, snapshot, ...(reduced ? { reduced } : {}) } satisfies MemoryReading);
  })();
});
// The IPC channel must not keep the server alive: once it has stopped (SIGTERM) it exits as it
// would without the probe, instead of lingering until the bench kills it (losing --cpu-prof files).
process.channel?.unref();
if (!gc) process.stderr.write('memoryProbe: run with --expose-gc, or the readings include garbage\n');
