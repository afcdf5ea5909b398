/**
 * What the audit page checks, in the browser, with nothing but WebCrypto and the log's public
 * endpoints (relative to the page's origin):
 *
 *   - the checkpoint (`/log/checkpoint`): parsed, and its Ed25519 signature verified when a
 *     verifier key is pinned (C2SP signed-note / tlog-checkpoint);
 *   - each listed entry (`/log/entries`): its bytes hashed to the RFC 6962 leaf hash here, and
 *     its inclusion proof (`/log/proof/inclusion`) verified against the checkpoint's root
 *     (RFC 9162 §2.1.3.2) by the same core code the server and `attune audit` use.
 *
 * Pure logic with `fetch` and the hasher injected, so it is unit-tested in Node.
 */
import type { AsyncHasher } from '../../../src/core/merkle/hasher.ts';
import { verifyInclusionAsync } from '../../../src/core/merkle/proofs.ts';
import { decodeBase64, encodeBase64 } from '../../../src/core/note/base64.ts';
import { type Checkpoint, parseCheckpoint } from '../../../src/core/note/checkpoint.ts';
import { type NoteVerifier, openNote, parseNote } from '../../../src/core/note/signedNote.ts';

/** The checkpoint as the page sees it. */
export interface CheckedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: string;
  /** `verified` (by the pinned key), `unchecked` (no key pinned) or the reason it failed. */
  readonly signature: { readonly state: 'verified'; readonly by: string } | { readonly state: 'unchecked' } | { readonly state: 'invalid'; readonly reason: string };
}

/** One entry row with its inclusion status. */
export interface EntryRow {
  readonly index: number;
  readonly entry: { readonly type: string; readonly space: string | null; readonly time: number; readonly payload: unknown } | null;
  readonly status: { readonly included: true } | { readonly included: false; readonly reason: string };
}

type Fetch = (url: string) => Promise<Response>;

async function getJson<T>(f: Fetch, url: string): Promise<T> {
  const r = await f(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/** Fetches and checks the checkpoint; `verifier` null means no key is pinned. */
export async function fetchCheckpoint(f: Fetch, base: string, verifier: NoteVerifier | null): Promise<CheckedCheckpoint> {
  const r = await f(`${base}/log/checkpoint`);
  if (!r.ok) throw new Error(`checkpoint: HTTP ${r.status}`);
  const note = await r.text();
  const parsed = parseNote(note);
  if ('error' in parsed) throw new Error(`checkpoint: ${parsed.error}`);
  const cp = parseCheckpoint(parsed.text);
  if ('error' in cp) throw new Error(`checkpoint: ${cp.error}`);
  if (verifier === null) return { checkpoint: cp, note, signature: { state: 'unchecked' } };
  const opened = await openNote(note, [verifier]);
  return {
    checkpoint: cp,
    note,
    signature: opened.ok ? { state: 'verified', by: opened.verified.join(', ') } : { state: 'invalid', reason: opened.reason },
  };
}

/** Lists entries [start, start+limit) and verifies each one's inclusion in the checkpoint's tree. */
export async function checkEntries(f: Fetch, base: string, hasher: AsyncHasher, cp: Checkpoint, start: number, limit: number): Promise<EntryRow[]> {
  const page = await getJson<{ entries: { index: number; data: string; entry: EntryRow['entry'] }[] }>(f, `${base}/log/entries?start=${start}&limit=${limit}`);
  const rows = page.entries.filter((e) => e.index < cp.size);
  return Promise.all(
    rows.map(async (e): Promise<EntryRow> => {
      const data = decodeBase64(e.data);
      if (data === null) return { index: e.index, entry: e.entry, status: { included: false, reason: 'entry bytes are not base64' } };
      const leafHash = await hasher.leaf(data);
      let proof: Uint8Array[];
      try {
        const p = await getJson<{ proof: string[]; leafHash: string }>(f, `${base}/log/proof/inclusion?index=${e.index}&size=${cp.size}`);
        if (p.leafHash !== encodeBase64(leafHash)) {
          return { index: e.index, entry: e.entry, status: { included: false, reason: 'the served entry does not hash to the leaf the log proves' } };
        }
        proof = p.proof.map((x) => decodeBase64(x) ?? new Uint8Array(0));
      } catch (err) {
        return { index: e.index, entry: e.entry, status: { included: false, reason: (err as Error).message } };
      }
      const v = await verifyInclusionAsync({ index: e.index, size: cp.size, leafHash, proof, root: cp.root }, hasher);
      return { index: e.index, entry: e.entry, status: v.ok ? { included: true } : { included: false, reason: v.reason } };
    }),
  );
}
