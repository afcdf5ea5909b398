/**
 * The auditor: checks a live log over its public HTTP API (C2SP tlog-tiles plus the JSON proof
 * endpoints) the way any outsider could, with nothing but a pinned verifier key and the state
 * of its last successful audit.
 *
 *   1. fetch `/checkpoint`; it must carry a valid signature by a pinned key (C2SP signed-note);
 *   2. compare with the last verified checkpoint: a smaller size is a rollback, the same size
 *      with a different root is a fork; a larger size needs a consistency proof
 *      (RFC 9162 §2.1.4.2) that verifies;
 *   3. download every hash tile and entry bundle of the tree; every entry must hash to its leaf
 *      in the level-0 tile, every higher tile hash must be the root of the full tile below;
 *   4. recompute the root (and the previous root) from the tiles; they must equal the signed
 *      ones; every entry must decode as a canonical attune entry.
 *
 * The report lists exactly what failed; the new state is returned only when nothing did.
 */
import type { NodeReader } from '../core/merkle/proofs.ts';
import { treeRoot, verifyConsistency } from '../core/merkle/proofs.ts';
import {
  decodeEntryBundle,
  formatEntriesPath,
  formatTilePath,
  type TileRef,
  TILE_WIDTH,
  tileHashes,
  tileNodeReader,
  tileRoot,
  tilesForSize,
} from '../core/merkle/tiles.ts';
import { decodeBase64, encodeBase64 } from '../core/note/base64.ts';
import { parseCheckpoint } from '../core/note/checkpoint.ts';
import { decodeNoteBytes, openNote } from '../core/note/signedNote.ts';
import { decodeEntry } from './entry.ts';
import { parseNoteVerifier } from './note.ts';
import { sha256Hasher } from './sha256Hasher.ts';

/** What an auditor remembers about a log between runs. */
export interface AuditState {
  readonly origin: string;
  readonly size: number;
  /** Base64 root of the checkpoint at `size`. */
  readonly root: string;
  /** The signed checkpoint itself: with a later conflicting one, it is proof of misbehaviour. */
  readonly checkpoint: string;
  readonly verifiedAt: number;
}

/** Options of `auditLog`. */
export interface AuditOptions {
  /** The log's URL prefix (serving `/checkpoint`, `/tile/…`, `/proof/…`). */
  readonly prefix: string;
  /** Pinned verifier keys (`name+hex8+base64`); one is enough, several during a rotation. */
  readonly verifierKeys: readonly string[];
  /** The state of the last successful audit of this log, if any. */
  readonly previous: AuditState | null;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** Parallel downloads (default 16). */
  readonly concurrency?: number;
}

/** The outcome of an audit. */
export interface AuditReport {
  readonly ok: boolean;
  /** Exactly what failed, one line each; empty when ok. */
  readonly failures: readonly string[];
  /** What was checked and passed, one line each. */
  readonly passed: readonly string[];
  readonly counts: {
    readonly size: number;
    readonly previousSize: number | null;
    readonly entries: number;
    readonly bundles: number;
    readonly tiles: number;
    readonly byType: Readonly<Record<string, number>>;
  };
  /** The state to save (only when ok). */
  readonly next: AuditState | null;
  /** Both conflicting checkpoints, when a fork or rollback was seen. */
  readonly evidence: readonly string[];
}

class AuditFailure extends Error {}

function short(b64: string): string {
  return `${b64.slice(0, 12)}…`;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Audits the log at `prefix`. Never throws for a misbehaving log: failures are in the report. */
export async function auditLog(o: AuditOptions): Promise<AuditReport> {
  const doFetch = o.fetch ?? fetch;
  const prefix = o.prefix.replace(/\/+$/, '');
  const failures: string[] = [];
  const passed: string[] = [];
  const evidence: string[] = [];
  const byType: Record<string, number> = {};
  let size = 0;
  let entries = 0;
  let bundles = 0;
  let tileCount = 0;
  let next: AuditState | null = null;

  const get = async (path: string): Promise<Uint8Array> => {
    let r: Response;
    try {
      r = await doFetch(`${prefix}/${path}`);
    } catch (e) {
      throw new AuditFailure(`could not fetch ${prefix}/${path}: ${(e as Error).message}`);
    }
    if (!r.ok) throw new AuditFailure(`${prefix}/${path} answered HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  };

  try {
    let verifiers: ReturnType<typeof parseNoteVerifier>[];
    try {
      verifiers = o.verifierKeys.map(parseNoteVerifier);
    } catch (e) {
      throw new AuditFailure(`the pinned verifier key is invalid: ${(e as Error).message}`);
    }
    if (verifiers.length === 0) throw new AuditFailure('no verifier key pinned');

    // 1. The checkpoint and its signature.
    const note = decodeNoteBytes(await get('checkpoint'));
    if (note === null) throw new AuditFailure('checkpoint signature: the checkpoint is not valid UTF-8');
    const opened = await openNote(note, verifiers);
    if (!opened.ok) {
      throw new AuditFailure(`checkpoint signature: not signed by the pinned key ${verifiers.map((v) => v.verifierKey.split('+').slice(0, 2).join('+')).join(', ')} — ${opened.reason}`);
    }
    const cp = parseCheckpoint(opened.text);
    if ('error' in cp) throw new AuditFailure(`checkpoint format: ${cp.error}`);
    size = cp.size;
    const root = encodeBase64(cp.root);
    passed.push(`checkpoint signature by ${opened.verified.join(', ')}: size ${cp.size}, root ${short(root)}`);
    if (!verifiers.some((v) => v.name === cp.origin)) failures.push(`checkpoint origin ${cp.origin} is not the name of the pinned key`);

    // 2. Against what we saw last time.
    const prev = o.previous;
    if (prev !== null) {
      if (prev.origin !== cp.origin) throw new AuditFailure(`the state file is for log ${prev.origin}, but this log's origin is ${cp.origin}`);
      if (cp.size < prev.size) {
        evidence.push(prev.checkpoint, note);
        throw new AuditFailure(`rollback: the log now claims size ${cp.size}, smaller than size ${prev.size} verified before`);
      }
      if (cp.size === prev.size && root !== prev.root) {
        evidence.push(prev.checkpoint, note);
        throw new AuditFailure(`fork: two signed checkpoints of size ${cp.size} with different roots (${short(prev.root)} verified before, ${short(root)} now)`);
      }
      if (cp.size > prev.size) {
        const body = JSON.parse(new TextDecoder().decode(await get(`proof/consistency?from=${prev.size}&to=${cp.size}`))) as { proof?: unknown };
        const proof = Array.isArray(body.proof) ? body.proof.map((p) => (typeof p === 'string' ? decodeBase64(p) : null)) : [null];
        const verdict = proof.every((p) => p !== null)
          ? verifyConsistency({ size1: prev.size, size2: cp.size, root1: decodeBase64(prev.root) ?? new Uint8Array(0), root2: cp.root, proof: proof as Uint8Array[] }, sha256Hasher)
          : { ok: false as const, reason: 'malformed proof' };
        if (!verdict.ok) {
          evidence.push(prev.checkpoint, note);
          throw new AuditFailure(`consistency: the log at size ${cp.size} does not extend the size-${prev.size} tree verified before (fork) — ${verdict.reason}`);
        }
        passed.push(`consistency with size ${prev.size} verified before (${proof.length}-hash proof)`);
      } else {
        passed.push(`same checkpoint as verified before (size ${prev.size})`);
      }
    }

    // 3. Every tile and entry bundle.
    const refs = tilesForSize(cp.size);
    const tiles = new Map<string, Uint8Array>();
    await mapLimit(refs, o.concurrency ?? 16, async (t: TileRef) => {
      const bytes = await get(`tile/${formatTilePath(t)}`);
      if (bytes.length !== t.width * 32) throw new AuditFailure(`tile ${formatTilePath(t)} is ${bytes.length} bytes, expected ${t.width * 32}`);
      tiles.set(`${t.level}/${t.index}`, bytes);
    });
    tileCount = refs.length;
    const level0 = refs.filter((t) => t.level === 0);
    await mapLimit(level0, o.concurrency ?? 16, async (t) => {
      const path = formatEntriesPath(t.index, t.width);
      const bundle = decodeEntryBundle(await get(`tile/${path}`));
      if (bundle === null || bundle.length !== t.width) {
        failures.push(`entry bundle ${path} is malformed or holds ${bundle?.length ?? '?'} entries, expected ${t.width}`);
        return;
      }
      bundles++;
      const leaves = tileHashes(tiles.get(`0/${t.index}`) as Uint8Array);
      bundle.forEach((data, i) => {
        const index = t.index * TILE_WIDTH + i;
        entries++;
        if (encodeBase64(sha256Hasher.leaf(data)) !== encodeBase64(leaves[i] as Uint8Array)) {
          failures.push(`entry ${index}: the bytes served in bundle ${path} do not hash to its leaf hash in tile ${formatTilePath(t)} (stored entry altered)`);
          return;
        }
        const decoded = decodeEntry(data);
        if (!decoded.ok) failures.push(`entry ${index}: not a canonical attune entry (${decoded.message})`);
        else byType[decoded.value.type] = (byType[decoded.value.type] ?? 0) + 1;
      });
    });
    for (const t of refs.filter((r) => r.level > 0)) {
      const hashes = tileHashes(tiles.get(`${t.level}/${t.index}`) as Uint8Array);
      hashes.forEach((h, j) => {
        const below = tiles.get(`${t.level - 1}/${t.index * TILE_WIDTH + j}`);
        if (below === undefined || encodeBase64(tileRoot(below, sha256Hasher)) !== encodeBase64(h)) {
          failures.push(`tile ${formatTilePath(t)}: hash ${j} is not the root of tile ${formatTilePath({ level: t.level - 1, index: t.index * TILE_WIDTH + j, width: TILE_WIDTH })}`);
        }
      });
    }

    // 4. The roots, recomputed.
    const read: NodeReader = tileNodeReader((l, i) => tiles.get(`${l}/${i}`), sha256Hasher);
    const recomputed = encodeBase64(treeRoot(cp.size, read, sha256Hasher));
    if (recomputed !== root) failures.push(`root: the tree recomputed from the tiles has root ${short(recomputed)}, but the checkpoint signs ${short(root)}`);
    else passed.push(`root recomputed from ${tileCount} tiles matches the checkpoint`);
    if (prev !== null && prev.size > 0 && prev.size < cp.size) {
      const old = encodeBase64(treeRoot(prev.size, read, sha256Hasher));
      if (old !== prev.root) failures.push(`consistency: the downloaded tree's first ${prev.size} entries have root ${short(old)}, not the ${short(prev.root)} verified before`);
    }
    if (failures.length === 0) {
      passed.push(`${entries} entries in ${bundles} bundles hash to their leaves and decode canonically`);
      next = { origin: cp.origin, size: cp.size, root, checkpoint: note, verifiedAt: (o.now ?? Date.now)() };
    }
  } catch (e) {
    if (e instanceof AuditFailure) failures.push(e.message);
    else failures.push(`audit error: ${(e as Error).message}`);
  }
  return {
    ok: failures.length === 0,
    failures,
    passed,
    counts: { size, previousSize: o.previous?.size ?? null, entries, bundles, tiles: tileCount, byType },
    next,
    evidence,
  };
}
