import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { verifyConsistency, verifyInclusion } from '../core/merkle/proofs.ts';
import { decodeEntryBundle, tileHashes, tileRoot } from '../core/merkle/tiles.ts';
import { decodeBase64, encodeHex } from '../core/note/base64.ts';
import { parseCheckpoint } from '../core/note/checkpoint.ts';
import { openNote } from '../core/note/signedNote.ts';
import { parseNoteVerifier, signerFromSeed } from '../log/note.ts';
import { sha256Hasher } from '../log/sha256Hasher.ts';
import { TransparencyLog } from '../log/transparencyLog.ts';
import { MemoryLogStore } from '../storage/memory/memoryLogStore.ts';
import { createLogRoutes, IMMUTABLE } from './logRoutes.ts';

const signer = signerFromSeed('routes.test/log', new Uint8Array(32).fill(3));

async function setup(n: number) {
  const log = await TransparencyLog.open({ store: new MemoryLogStore(), signer, now: () => 1000 });
  await Promise.all(Array.from({ length: n }, (_, i) => log.append({ type: 'space.closed', space: `s${i}`, payload: {} })));
  const app = new Hono();
  app.route('/log', createLogRoutes(log));
  return { log, app };
}

const bytesOf = async (r: Response) => new Uint8Array(await r.arrayBuffer());

describe('[L10] log HTTP routes (tlog-tiles)', () => {
  it('serves the signed checkpoint as text/plain, not cached', async () => {
    const { app } = await setup(3);
    const r = await app.request('/log/checkpoint');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    const note = await r.text();
    const opened = await openNote(note, [parseNoteVerifier(signer.verifierKey)]);
    expect(opened.ok && parseCheckpoint(opened.text)).toMatchObject({ origin: 'routes.test/log', size: 3 });
  });

  it('serves full and partial tiles and bundles byte-exact with immutable caching', async () => {
    const { app, log } = await setup(300);
    const full = await app.request('/log/tile/0/000');
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('application/octet-stream');
    expect(full.headers.get('cache-control')).toBe(IMMUTABLE);
    const fullBytes = await bytesOf(full);
    expect(fullBytes.length).toBe(8192);
    const partial = await bytesOf(await app.request('/log/tile/0/001.p/44'));
    expect(partial.length).toBe(44 * 32);
    const bundle = decodeEntryBundle(await bytesOf(await app.request('/log/tile/entries/001.p/44'))) as Uint8Array[];
    expect(bundle.map((e) => encodeHex(sha256Hasher.leaf(e)))).toEqual(tileHashes(partial).map(encodeHex));
    expect(bundle[0]).toEqual((await log.readEntries(256, 257))[0]);
    const gz = await app.request('/log/tile/entries/001.p/44', { headers: { 'Accept-Encoding': 'gzip, identity' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gz.headers.get('vary')).toBe('Accept-Encoding');
    expect(new Uint8Array(gunzipSync(await bytesOf(gz)))).toEqual(await bytesOf(await app.request('/log/tile/entries/001.p/44')));
    const level1 = await bytesOf(await app.request('/log/tile/1/000.p/1'));
    expect(encodeHex(level1)).toBe(encodeHex(tileRoot(fullBytes, sha256Hasher)));
  });

  it('answers 404 for tiles beyond the tree and 400 for non-canonical paths', async () => {
    const { app } = await setup(10);
    expect((await app.request('/log/tile/0/000.p/11')).status).toBe(404);
    expect((await app.request('/log/tile/0/000')).status).toBe(404);
    expect((await app.request('/log/tile/entries/001.p/1')).status).toBe(404);
    const bad = await app.request('/log/tile/0/0');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect((await app.request('/log/tile/0/x000/000.p/1')).status).toBe(400);
    expect((await app.request('/log/tile/entries/000.p/256')).status).toBe(400);
  });

  it('serves inclusion and consistency proofs that verify against checkpoints', async () => {
    const { app, log } = await setup(40);
    const root40 = await log.root(40);
    const r = await app.request('/log/proof/inclusion?index=7&size=40');
    expect(r.headers.get('cache-control')).toBe(IMMUTABLE);
    const p = (await r.json()) as { leafHash: string; proof: string[] };
    const check = { index: 7, size: 40, leafHash: decodeBase64(p.leafHash) as Uint8Array, proof: p.proof.map((x) => decodeBase64(x) as Uint8Array), root: root40 };
    expect(verifyInclusion(check, sha256Hasher).ok).toBe(true);
    const c = (await (await app.request('/log/proof/consistency?from=13&to=40')).json()) as { proof: string[] };
    const cc = { size1: 13, size2: 40, root1: await log.root(13), root2: root40, proof: c.proof.map((x) => decodeBase64(x) as Uint8Array) };
    expect(verifyConsistency(cc, sha256Hasher).ok).toBe(true);
    expect((await app.request('/log/proof/inclusion?index=40&size=40')).status).toBe(400);
    expect((await app.request('/log/proof/inclusion?index=1&size=41')).status).toBe(404);
    expect((await app.request('/log/proof/inclusion?index=-1&size=4')).status).toBe(400);
    expect((await app.request('/log/proof/consistency?from=0&to=4')).status).toBe(400);
  });

  it('lists entries decoded, with their leaf hashes', async () => {
    const { app } = await setup(5);
    const body = (await (await app.request('/log/entries?start=3&limit=10')).json()) as { size: number; entries: { index: number; entry: { type: string } }[] };
    expect(body.size).toBe(5);
    expect(body.entries.map((e) => [e.index, e.entry.type])).toEqual([[3, 'space.closed'], [4, 'space.closed']]);
    expect((await app.request('/log/entries?limit=1000')).status).toBe(400);
  });
});
