/**
 * Event numbers on a cluster (SPEC K5). Every node runs its own machine of a cluster space, each
 * numbering its events 1, 2, … — but the shared storage keeps `(space, n)` unique (S8). So each
 * node gets a slot s ∈ [0, {@link NODE_SLOTS}) from the KV store, and writes its n as
 * `n · NODE_SLOTS + s`: unique across nodes, increasing per node. `lastEventN` answers
 * ⌈stored max / NODE_SLOTS⌉, above every n any node has used, so a restarted or taking-over node
 * continues above all of them (gaps are allowed, S7). A node's own records are the subsequence
 * of its slot, in its step order.
 */
import type { KvStore } from '../../bus/port.ts';
import type { InputRecord, SpaceEventRecord, Storage } from '../../storage/port.ts';

/** Nodes one cluster may ever number events for. */
export const NODE_SLOTS = 1024;

/**
 * The slot of `nodeId`: the one it holds, else the first free one (compare-and-set `create` on
 * `slot.<i>`, so two nodes never share one). Slots are never given back: a node id keeps its slot.
 */
export async function allocateSlot(kv: KvStore, nodeId: string): Promise<number> {
  const mine = new TextEncoder().encode(nodeId);
  for (let i = 0; i < NODE_SLOTS; i++) {
    const key = `slot.${i}`;
    if ((await kv.create(key, mine)) !== null) return i;
    const held = await kv.get(key);
    if (held && new TextDecoder().decode(held.value) === nodeId) return i;
  }
  throw new Error(`every one of the cluster's ${NODE_SLOTS} node slots is taken`);
}

/**
 * The storage as one node of a cluster uses it: the same adapter, with this node's event numbers
 * (see the header). Every other method passes through unchanged, including ones added later.
 */
export function nodeStorage(inner: Storage, slot: number): Storage {
  if (!Number.isInteger(slot) || slot < 0 || slot >= NODE_SLOTS) throw new RangeError(`slot must be an integer in [0, ${NODE_SLOTS})`);
  const wide = (n: number) => n * NODE_SLOTS + slot;
  const overrides: Partial<Storage> = {
    appendInputs: (inputs: readonly InputRecord[]) => inner.appendInputs(inputs.map((i) => (i.n === undefined ? i : { ...i, n: wide(i.n) }))),
    appendEvents: (events: readonly SpaceEventRecord[]) => inner.appendEvents(events.map((e) => ({ ...e, n: wide(e.n) }))),
    lastEventN: async (spaceId: string) => Math.ceil((await inner.lastEventN(spaceId)) / NODE_SLOTS),
  };
  return new Proxy(inner, {
    get(target, prop, _receiver) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof Storage];
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
