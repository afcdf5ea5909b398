/**
 * HTTP routes of the transparency log, relative to where they are mounted (`/log`):
 *
 *   GET /checkpoint                       C2SP tlog-checkpoint signed note (text/plain; charset=utf-8)
 *   GET /tile/<L>/<N>[.p/<W>]             C2SP tlog-tiles hash tile (application/octet-stream)
 *   GET /tile/entries/<N>[.p/<W>]         C2SP tlog-tiles entry bundle (application/octet-stream)
 *   GET /proof/inclusion?index=&size=     JSON inclusion proof (RFC 9162 §2.1.3)
 *   GET /proof/consistency?from=&to=      JSON consistency proof (RFC 9162 §2.1.4)
 *   GET /entries?start=&limit=            JSON page of entries, decoded, with leaf hashes
 *
 * Tiles, bundles and proofs are immutable once they exist (a partial tile of width W never
 * changes), so they are served with a year-long `immutable` cache; the checkpoint and the entry
 * listing are revalidated on every use. Failures are coded JSON errors (src/core/errors.ts).
 * CORS is open: everything here is public and read-only, and third-party auditors run in browsers.
 * Entry bundles are gzipped for clients that accept it (tlog-tiles: bundles SHOULD be compressed
 * at the HTTP layer); the bytes after decoding are the bundle, byte for byte.
 */
import { gzipSync } from 'node:zlib';
import { type Context, Hono } from 'hono';
import { type ErrorCode, httpStatusOf } from '../core/errors.ts';
import { parseTileIndexPath, parseTilePath } from '../core/merkle/tiles.ts';
import { encodeBase64 } from '../core/note/base64.ts';
import { decodeEntry } from '../log/entry.ts';

/** What the routes need from the log (satisfied by TransparencyLog). */
export interface LogReader {
  readonly size: number;
  /** Catches up with what other writers of a shared store appended (SPEC K9); resolves the size. */
  sync(): Promise<number>;
  checkpoint(): Promise<{ readonly note: string }>;
  readTile(level: number, index: number, width: number): Promise<Uint8Array | null>;
  readEntryBundle(index: number, width: number): Promise<Uint8Array | null>;
  readEntries(start: number, end: number): Promise<Uint8Array[]>;
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  consistencyProof(from: number, to: number): Promise<Uint8Array[]>;
  leafHash(data: Uint8Array): Uint8Array;
}

/** Cache-Control for resources that never change once they exist. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Cache-Control for the checkpoint and listings: always revalidate. */
export const REVALIDATE = 'no-cache';
/** Most entries per `/entries` page. */
export const MAX_ENTRIES_PAGE = 256;

function error(c: Context, code: ErrorCode, message: string): Response {
  c.header('Cache-Control', 'no-store');
  return c.json({ error: { code, message } }, httpStatusOf(code) as 400);
}

function intParam(c: Context, name: string, fallback?: number): number | null {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback ?? null;
  return /^(0|[1-9]\d{0,15})$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : null;
}

function octets(c: Context, bytes: Uint8Array): Response {
  c.header('Content-Type', 'application/octet-stream');
  c.header('Cache-Control', IMMUTABLE);
  return c.body(bytes as Uint8Array<ArrayBuffer>);
}

/** Builds the log's Hono sub-app; mount it with `app.route('/log', createLogRoutes(log))`. */
export function createLogRoutes(log: LogReader): Hono {
  const app = new Hono();
  const gzipped = new WeakMap<Uint8Array, Uint8Array>();

  app.use('*', async (c, next) => {
    await next();
    c.header('Access-Control-Allow-Origin', '*');
    c.header('X-Content-Type-Options', 'nosniff');
  });

  app.get('/checkpoint', async (c) => {
    const cp = await log.checkpoint();
    c.header('Content-Type', 'text/plain; charset=utf-8');
    c.header('Cache-Control', REVALIDATE);
    return c.body(cp.note);
  });

  app.get('/tile/entries/:rest{.+}', async (c) => {
    const t = parseTileIndexPath(c.req.param('rest'));
    if (t === null) return error(c, 'BAD_REQUEST', 'entry bundle path must be entries/<N>[.p/<W>] in tlog-tiles form');
    const bundle = await log.readEntryBundle(t.index, t.width);
    if (bundle === null) return error(c, 'NOT_FOUND', 'no such entry bundle at the current tree size');
    c.header('Vary', 'Accept-Encoding');
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('Content-Encoding', 'gzip');
      // Full bundles come from the log's cache as the same object each time: compress once.
      let gz = gzipped.get(bundle);
      if (gz === undefined) {
        gz = gzipSync(bundle, { level: 6 });
        gzipped.set(bundle, gz);
      }
      return octets(c, gz);
    }
    return octets(c, bundle);
  });

  app.get('/tile/:rest{.+}', async (c) => {
    const t = parseTilePath(c.req.param('rest'));
    if (t === null) return error(c, 'BAD_REQUEST', 'tile path must be <L>/<N>[.p/<W>] in tlog-tiles form');
    const tile = await log.readTile(t.level, t.index, t.width);
    if (tile === null) return error(c, 'NOT_FOUND', 'no such tile at the current tree size');
    return octets(c, tile);
  });

  app.get('/proof/inclusion', async (c) => {
    const index = intParam(c, 'index');
    const size = intParam(c, 'size');
    if (index === null || size === null) return error(c, 'BAD_REQUEST', 'index and size must be non-negative integers');
    if (size > log.size && size > (await log.sync())) return error(c, 'NOT_FOUND', `the log has only ${log.size} entries`);
    if (index >= size) return error(c, 'BAD_REQUEST', 'index must be below size');
    const [data] = await log.readEntries(index, index + 1);
    const proof = await log.inclusionProof(index, size);
    c.header('Cache-Control', IMMUTABLE);
    return c.json({ index, size, leafHash: encodeBase64(log.leafHash(data as Uint8Array)), proof: proof.map(encodeBase64) });
  });

  app.get('/proof/consistency', async (c) => {
    const from = intParam(c, 'from');
    const to = intParam(c, 'to');
    if (from === null || to === null) return error(c, 'BAD_REQUEST', 'from and to must be non-negative integers');
    if (to > log.size && to > (await log.sync())) return error(c, 'NOT_FOUND', `the log has only ${log.size} entries`);
    if (from < 1 || from > to) return error(c, 'BAD_REQUEST', 'a consistency proof needs 0 < from ≤ to');
    const proof = await log.consistencyProof(from, to);
    c.header('Cache-Control', IMMUTABLE);
    return c.json({ from, to, proof: proof.map(encodeBase64) });
  });

  app.get('/entries', async (c) => {
    const start = intParam(c, 'start', 0);
    const limit = intParam(c, 'limit', 100);
    if (start === null || limit === null || limit < 1 || limit > MAX_ENTRIES_PAGE) {
      return error(c, 'BAD_REQUEST', `start must be a non-negative integer and limit 1…${MAX_ENTRIES_PAGE}`);
    }
    const size = await log.sync();
    const rows = await log.readEntries(Math.min(start, size), Math.min(start + limit, size));
    c.header('Cache-Control', REVALIDATE);
    return c.json({
      size,
      start,
      entries: rows.map((data, i) => {
        const decoded = decodeEntry(data);
        return { index: start + i, leafHash: encodeBase64(log.leafHash(data)), data: encodeBase64(data), entry: decoded.ok ? decoded.value : null };
      }),
    });
  });

  app.notFound((c) => error(c, 'NOT_FOUND', 'no such log resource'));
  app.onError((e, c) => (e instanceof RangeError ? error(c, 'BAD_REQUEST', e.message) : error(c, 'INTERNAL', 'internal error')));
  return app;
}
