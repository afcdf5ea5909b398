/**
 * Garbage collection for the SQLite writer thread, which V8 alone leaves late.
 *
 * Why: the writer thread's garbage is the groups it commits — the calls as they crossed
 * `postMessage`, the rows bound, the outcomes sent back. A group stays referenced while it
 * commits, long enough to outlive two scavenges, so a large one (a join storm's: thousands of
 * joins, each a participant row, a sealing key and a consent) is promoted to the old generation,
 * where only a mark-compact frees it. V8 starts one when the old generation reaches a limit it
 * sets from the machine's memory, not from this thread's few MB of live objects: measured
 * (bench:memory, 10,000 joins then a tap every 3 s each; 2026-12-02) the worker threads' heaps
 * went from 26 to 60 MiB committed (3.5 KB of the server's RSS per participant), the writer's
 * nearly all garbage: a `gc()` in it took its 28 MiB in use back to 10 MiB.
 *
 * What: the thread collects once its heap grew by {@link GARBAGE_BOUND_BYTES} since the last
 * collection, checked after each message (a group, a checkpoint), so the bound holds under a load
 * that never pauses — the host writes a tick record every 250 ms while a space is open, so "when
 * idle" would never come. A collection of the thread's heap takes a few ms (its live set is its
 * statements and modules, ≈ 10 MiB; 23 ms measured on this loaded 2-core machine); V8 would run
 * the same one later, over more garbage. Under a steady input rate the thread promotes ≈ 0.5 MB
 * a second. The bound was 16 MiB until issue 13's fourth round; at 4 MiB the worker threads'
 * heaps grew 25.5 → 32.8 MiB instead of 25.2 → 56.0 MiB over the same bench:memory run (10,000
 * participants tapping every 3 s for 30 s, both in one run, 2026-12-02: 0.74 instead of 3.15 KB
 * per participant), and the writer's CPU per input in bench:durable at 20,000 and 30,000/s stayed
 * within that bench's noise (18–22 µs either way).
 *
 * How: Node has no API for a collection without `--expose-gc`, a flag of the whole process.
 * {@link threadCollector} sets it for one moment, takes `gc` from a fresh context (the only one
 * created while it is on) and unsets it, the way Jest's leak detector does; no other context
 * sees a `gc`.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Heap growth since the last collection (young generation included: ≤ 4 MiB of it) that makes the thread collect. */
export const GARBAGE_BOUND_BYTES = 4 * 1024 * 1024;

/**
 * When to collect, from the heap's used bytes: pure, so the policy is tested without a thread.
 * `base` is the used size right after the last collection (or at the start).
 */
export class GarbageBound {
  #base: number;
  readonly boundBytes: number;
  constructor(base: number, boundBytes = GARBAGE_BOUND_BYTES) {
    this.#base = base;
    this.boundBytes = boundBytes;
  }

  /** After a message: whether the heap grew past the bound. */
  due(used: number): boolean {
    return used - this.#base >= this.boundBytes;
  }

  /** A collection ran; `used` is the size it left. */
  collected(used: number): void {
    this.#base = used;
  }
}

/** The heap's used bytes (every space, live objects and garbage not yet collected). */
export const heapUsed = (): number => getHeapStatistics().used_heap_size;

/**
 * A full collection of this thread's heap (see the header for how it is obtained), or null if
 * Node refuses the flag: the thread then runs with V8's own timing, as before.
 */
export function threadCollector(): (() => void) | null {
  const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (exposed) return (globalThis as unknown as { gc: () => void }).gc;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  } finally {
    if (!exposed) setFlagsFromString('--no-expose-gc');
  }
}

/**
 * Wires a {@link GarbageBound} to this thread: call the returned function after each message the
 * thread handles. Past the bound it collects on the next turn of the event loop, once the
 * message's handler has returned: collected inside it, the group it handled — the bulk of the
 * garbage — would still be referenced, and the bound would start over from a heap holding it.
 */
export function boundThreadGarbage(collect: (() => void) | null = threadCollector(), used: () => number = heapUsed): () => void {
  if (collect === null) return () => {};
  const bound = new GarbageBound(used());
  let pending = false;
  const run = () => {
    pending = false;
    collect();
    bound.collected(used());
  };
  return () => {
    if (pending || !bound.due(used())) return;
    pending = true;
    setImmediate(run);
  };
}
