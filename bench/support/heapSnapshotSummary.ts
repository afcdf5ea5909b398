/**
 * Reads a V8 heap snapshot (`.heapsnapshot`, the format of `v8.writeHeapSnapshot`) and sums its
 * objects' own sizes by class, as the "Summary" view of Chrome DevTools does, so two snapshots
 * can be diffed by class. The format: `snapshot.meta` names the fields of the flat `nodes` and
 * `edges` arrays; each node's `edge_count` edges follow its predecessors' in `edges`, and an
 * edge's `to_node` is the index of its target's first field in `nodes` (V8's
 * `HeapSnapshotJSONSerializer`, src/profiler/heap-snapshot-generator.cc).
 *
 * A class is the node's type and name: `object:WebSocket`, `closure:onMessage`,
 * `hidden:system / Context`… Objects with no class of their own — arrays, strings, contexts,
 * compiled code, numbers — are named after the class of the first object that holds them by a
 * strong edge (`array ← Socket`: the backing store of a Socket's properties), which is what a
 * reader needs to know whose memory it is.
 */
import { readFileSync } from 'node:fs';

/** Count and own bytes of one class. */
export interface ClassTotal {
  count: number;
  bytes: number;
}

interface Snapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: readonly string[];
      readonly node_types: readonly [readonly string[], ...unknown[]];
      readonly edge_fields: readonly string[];
      readonly edge_types: readonly [readonly string[], ...unknown[]];
    };
  };
  readonly nodes: readonly number[];
  readonly edges: readonly number[];
  readonly strings: readonly string[];
}

/** Types whose objects are named after their holder. */
const HELD = new Set(['array', 'string', 'concatenated string', 'sliced string', 'hidden', 'code', 'number', 'object shape', 'bigint']);

/** Sums a snapshot's nodes by class. */
export function summariseHeapSnapshot(path: string): Map<string, ClassTotal> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const nf = s.snapshot.meta.node_fields;
  const ef = s.snapshot.meta.edge_fields;
  const N = nf.length;
  const E = ef.length;
  const fType = nf.indexOf('type');
  const fName = nf.indexOf('name');
  const fSize = nf.indexOf('self_size');
  const fEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type');
  const eTo = ef.indexOf('to_node');
  const nodeTypes = s.snapshot.meta.node_types[0];
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const weak = edgeTypes.indexOf('weak');
  const property = edgeTypes.indexOf('property');
  const fEName = ef.indexOf('name_or_index');
  const shortcut = edgeTypes.indexOf('shortcut');
  const { nodes, edges, strings } = s;
  const count = nodes.length / N;
  // Plain objects all share the class name Object: name them by their first properties instead
  // (`Object{valence,arousal,…}`), which says which code made them.
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, e0 = 0; i < count; i++) {
    firstEdge[i] = e0;
    e0 += (nodes[i * N + fEdges] as number) * E;
  }
  firstEdge[count] = edges.length;
  const shapeOf = (i: number): string => {
    const names: string[] = [];
    for (let e1 = firstEdge[i] as number; e1 < (firstEdge[i + 1] as number) && names.length < 5; e1 += E) {
      if (edges[e1 + eType] === property) names.push(strings[edges[e1 + fEName] as number] ?? '?');
    }
    return `{${names.join(',')}}`;
  };
  // A closure is named by its function and where it was written (file:line), from the
  // snapshot's locations and the edges closure → shared function info → script → name.
  const nodeByIndex = new Map<number, number>();
  const loc = (s as unknown as { locations?: number[] }).locations ?? [];
  const lf = (s.snapshot.meta as unknown as { location_fields?: string[] }).location_fields ?? [];
  const L = lf.length;
  for (let k = 0; L > 0 && k < loc.length; k += L) nodeByIndex.set((loc[k + lf.indexOf('object_index')] as number) / N, (loc[k + lf.indexOf('line')] as number) + 1);
  const edgeTo = (i: number, name: string): number => {
    for (let e1 = firstEdge[i] as number; e1 < (firstEdge[i + 1] as number); e1 += E) {
      const t = edges[e1 + eType] as number;
      if (edgeTypes[t] === 'element' || edgeTypes[t] === 'hidden') continue;
      if (strings[edges[e1 + fEName] as number] === name) return (edges[e1 + eTo] as number) / N;
    }
    return -1;
  };
  const fileOf = (i: number): string => {
    const shared = edgeTo(i, 'shared');
    let script = shared >= 0 ? edgeTo(shared, 'script') : -1;
    if (script < 0 && shared >= 0) script = edgeTo(shared, 'script_or_debug_info');
    const name = script >= 0 ? edgeTo(script, 'name') : -1;
    const full = name >= 0 ? (strings[nodes[name * N + fName] as number] ?? '') : '';
    return full.split('/').slice(-2).join('/');
  };
  const closureClass = (i: number, name: string): string => {
    const line = nodeByIndex.get(i);
    return `closure:${name || '(anonymous)'} @${fileOf(i) || '?'}${line ? `:${line}` : ''}`;
  };
  const ownClass = (i: number): string => {
    const type = nodeTypes[nodes[i * N + fType] as number] ?? '?';
    const name = strings[nodes[i * N + fName] as number] ?? '';
    if (type === 'object' && name === 'Object') return `object:Object${shapeOf(i)}`;
    if (type === 'object' || type === 'native' || type === 'synthetic') return `${type}:${name}`;
    if (type === 'closure') return closureClass(i, name);
    if (type === 'hidden') return `hidden:${name}`;
    if (type === 'array') return `array${name ? `:${name}` : ''}`;
    return type;
  };
  // The first strong holder of every node.
  const holder = new Int32Array(count).fill(-1);
  let e = 0;
  for (let i = 0; i < count; i++) {
    const n = nodes[i * N + fEdges] as number;
    for (let k = 0; k < n; k++, e += E) {
      const t = edges[e + eType] as number;
      if (t === weak || t === shortcut) continue;
      const to = (edges[e + eTo] as number) / N;
      if (holder[to] === -1) holder[to] = i;
    }
  }
  const isHeld = (i: number) => HELD.has(nodeTypes[nodes[i * N + fType] as number] ?? '');
  const totals = new Map<string, ClassTotal>();
  for (let i = 0; i < count; i++) {
    let key = ownClass(i);
    if (isHeld(i)) {
      // Walk up through other held objects (an array of an array of a Socket) to a real class.
      let h = holder[i] as number;
      for (let depth = 0; h >= 0 && isHeld(h) && depth < 4; depth++) h = holder[h] as number;
      key = `${key} ← ${h >= 0 ? ownClass(h) : '(root)'}`;
    }
    const t = totals.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += nodes[i * N + fSize] as number;
    totals.set(key, t);
  }
  return totals;
}

/** `after − before` per class, divided by `per` (e.g. the participants who joined in between). */
export function diffPer(before: Map<string, ClassTotal>, after: Map<string, ClassTotal>, per: number): { key: string; count: number; bytes: number }[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  const rows: { key: string; count: number; bytes: number }[] = [];
  for (const key of keys) {
    const a = after.get(key) ?? { count: 0, bytes: 0 };
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    rows.push({ key, count: (a.count - b.count) / per, bytes: (a.bytes - b.bytes) / per });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}
