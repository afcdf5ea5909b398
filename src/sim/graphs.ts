/**
 * Seeded social graphs for the crowd simulator, built on graphology. (graphology-generators
 * 0.11 ships Erdős–Rényi, caveman and Girvan–Newman generators but neither of the two below,
 * so they are written here from their papers.)
 *
 * Sources: D. J. Watts and S. H. Strogatz, "Collective dynamics of 'small-world' networks",
 * Nature 393, 1998 (ring lattice of degree k, each edge rewired with probability p);
 * A.-L. Barabási and R. Albert, "Emergence of scaling in random networks", Science 286, 1999
 * (preferential attachment, m edges per new node, seeded by a clique of m + 1 nodes).
 */
import { UndirectedGraph } from 'graphology';
import type { Rng } from '../core/collective/prng.ts';

/** The graph families the simulator offers. */
export const GRAPH_KINDS = ['watts-strogatz', 'barabasi-albert'] as const;

/** A graph family. */
export type GraphKind = (typeof GRAPH_KINDS)[number];

function nodes(n: number): UndirectedGraph {
  const g = new UndirectedGraph();
  for (let i = 0; i < n; i++) g.addNode(String(i));
  return g;
}

/** A Watts–Strogatz small world on n nodes: ring of even degree k, rewiring probability p. */
export function wattsStrogatz(n: number, k: number, p: number, rng: Rng): UndirectedGraph {
  if (!Number.isInteger(n) || n < 3) throw new RangeError('n must be an integer ≥ 3');
  const half = Math.max(1, Math.min(Math.floor(k / 2), Math.floor((n - 1) / 2)));
  const g = nodes(n);
  for (let i = 0; i < n; i++) for (let j = 1; j <= half; j++) g.mergeEdge(String(i), String((i + j) % n));
  // Rewire each lattice edge (i, i + j) with probability p to (i, random) avoiding loops and duplicates.
  for (let j = 1; j <= half; j++) {
    for (let i = 0; i < n; i++) {
      if (rng.next() >= p) continue;
      const a = String(i);
      const b = String((i + j) % n);
      if (!g.hasEdge(a, b) || g.degree(a) >= n - 1) continue;
      let c = String(rng.int(n));
      let guard = 0;
      while ((c === a || g.hasEdge(a, c)) && guard++ < 4 * n) c = String(rng.int(n));
      if (c === a || g.hasEdge(a, c)) continue;
      g.dropEdge(a, b);
      g.addEdge(a, c);
    }
  }
  return g;
}

/** A Barabási–Albert graph on n nodes with m edges per new node. */
export function barabasiAlbert(n: number, m: number, rng: Rng): UndirectedGraph {
  if (!Number.isInteger(n) || n < 2) throw new RangeError('n must be an integer ≥ 2');
  const mm = Math.max(1, Math.min(m, n - 1));
  const g = nodes(n);
  const ends: number[] = []; // every edge endpoint, so a uniform pick is degree-proportional
  for (let i = 0; i <= mm && i < n; i++) {
    for (let j = 0; j < i; j++) {
      g.addEdge(String(i), String(j));
      ends.push(i, j);
    }
  }
  for (let v = mm + 1; v < n; v++) {
    const targets = new Set<number>();
    while (targets.size < mm) targets.add(ends[rng.int(ends.length)] as number);
    for (const t of targets) {
      g.addEdge(String(v), String(t));
      ends.push(v, t);
    }
  }
  return g;
}

/** Builds a graph of the given kind with the simulator's defaults (mean degree ≈ 6). */
export function socialGraph(kind: GraphKind, n: number, rng: Rng): UndirectedGraph {
  return kind === 'watts-strogatz' ? wattsStrogatz(n, 6, 0.1, rng) : barabasiAlbert(n, 3, rng);
}

/** Neighbour lists by node index (nodes are named "0" … "n−1"). */
export function adjacencyOf(g: UndirectedGraph): number[][] {
  const adj: number[][] = [];
  for (let i = 0; i < g.order; i++) adj.push(g.neighbors(String(i)).map(Number));
  return adj;
}
