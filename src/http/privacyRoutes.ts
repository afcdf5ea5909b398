/**
 * Privacy routes (SPEC H6, H16–H17, R8), mounted at `/api/spaces`:
 *
 * - `GET /:code/privacy` (public): the space's budget, what is spent, every DP release, the
 *   minimum cohort and the live-release settings.
 * - `POST /:code/privacy/releases` (steward) `{"what":"series","from"?,"to"?,"bucketSeconds"?,"rho"?}`
 *   or `{"what":"contagion","from"?,"to"?,"rho"?}`: a new DP release of the series or of the
 *   contagion index (201; 200 when the same query was released before, spending nothing), or 403
 *   `PRIVACY_BUDGET_EXHAUSTED`.
 * - `GET /:code/contagion?release=n` (public): a published contagion release (H10; the latest
 *   without `release`); 404 while none was made.
 * - `GET /:code/privacy/report` (steward): what is stored about the space's people (counts),
 *   its budget use and its retention date (V4; what `attune privacy report` prints).
 * - `GET /:code/series?release=n&format=json|csv` (public): a published series release (the
 *   latest without `release`); 404 while none was made.
 *
 * Thin: translate, call the privacy desk, answer.
 */
import { type Context, Hono } from 'hono';
import * as v from 'valibot';
import type { DpSeriesPoint } from '../core/release/dpSeries.ts';
import type { PrivacyDesk } from '../space/privacyDesk.ts';
import type { SpaceHost } from '../space/spaceHost.ts';
import type { SpaceRecord } from '../storage/port.ts';
import { errorResponse } from './app.ts';
import { bearer, readJsonBody } from './request.ts';

/** What the routes need. */
export interface PrivacyRoutesOptions {
  readonly host: SpaceHost;
  readonly desk: PrivacyDesk;
}

const ContagionBody = v.strictObject({
  what: v.literal('contagion'),
  from: v.optional(v.pipe(v.number(), v.safeInteger('from must be epoch milliseconds'), v.minValue(0))),
  to: v.optional(v.pipe(v.number(), v.safeInteger('to must be epoch milliseconds'), v.minValue(0))),
  rho: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0.000001, 'rho must be positive'), v.maxValue(10))),
});

const ReleaseBody = v.strictObject({
  what: v.literal('series', 'what must be "series" or "contagion"'),
  from: v.optional(v.pipe(v.number(), v.safeInteger('from must be epoch milliseconds'), v.minValue(0))),
  to: v.optional(v.pipe(v.number(), v.safeInteger('to must be epoch milliseconds'), v.minValue(0))),
  bucketSeconds: v.optional(v.pipe(v.number(), v.integer('bucketSeconds must be an integer'), v.minValue(10), v.maxValue(86_400))),
  rho: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0.000001, 'rho must be positive'), v.maxValue(10))),
});

const ContagionQuery = v.strictObject({
  release: v.optional(v.pipe(v.string(), v.regex(/^\d{1,9}$/, 'release must be a release number'), v.transform(Number))),
});

const SeriesQuery = v.strictObject({
  release: v.optional(v.pipe(v.string(), v.regex(/^\d{1,9}$/, 'release must be a release number'), v.transform(Number))),
  format: v.optional(v.picklist(['json', 'csv'], 'format must be json or csv')),
});

/** The CSV of a DP series (H6): withheld windows have empty fields. */
export function dpSeriesCsv(points: readonly DpSeriesPoint[]): string {
  const lines = ['at,count,valence,arousal,pleasant_energised,pleasant_calm,unpleasant_calm,unpleasant_energised'];
  const f = (x: number | null | undefined) => (x === null || x === undefined ? '' : Number.isInteger(x) ? String(x) : x.toFixed(6));
  for (const p of points) lines.push([p.at, p.count, p.valence, p.arousal, ...(p.quadrants ?? [null, null, null, null])].map(f).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The privacy routes, to mount at `/api/spaces`. */
export function createPrivacyRoutes(o: PrivacyRoutesOptions): (withSpace: (c: Context) => Promise<SpaceRecord | Response>) => Hono {
  return (withSpace) => {
    const app = new Hono();

    app.get('/:code/privacy', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      c.header('cache-control', 'no-store');
      return c.json({ space: s.code, ...(await o.desk.status(s.id)) });
    });

    app.get('/:code/privacy/report', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const auth = await o.host.authorise(s.code, bearer(c));
      if (!auth.ok) return errorResponse(c, auth.code, auth.message);
      c.header('cache-control', 'no-store');
      return c.json(await o.desk.report(auth.value, o.host.retentionMs));
    });

    app.post('/:code/privacy/releases', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const auth = await o.host.authorise(s.code, bearer(c));
      if (!auth.ok) return errorResponse(c, auth.code, auth.message);
      const read = await readJsonBody(c);
      if (read instanceof Response) return read;
      if ((read.body as { what?: unknown } | null)?.what === 'contagion') {
        const parsed = v.safeParse(ContagionBody, read.body);
        if (!parsed.success) return errorResponse(c, 'BAD_REQUEST', parsed.issues[0]?.message ?? 'invalid body');
        const r = await o.desk.releaseContagion(auth.value, parsed.output);
        if (!r.ok) return errorResponse(c, r.code, r.message);
        return c.json({ space: s.code, ...r.value }, r.value.spent ? 201 : 200);
      }
      const parsed = v.safeParse(ReleaseBody, read.body);
      if (!parsed.success) return errorResponse(c, 'BAD_REQUEST', parsed.issues[0]?.message ?? 'invalid body');
      const r = await o.desk.releaseSeries(auth.value, parsed.output);
      if (!r.ok) return errorResponse(c, r.code, r.message);
      return c.json({ space: s.code, ...r.value }, r.value.spent ? 201 : 200);
    });

    app.get('/:code/contagion', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const q = v.safeParse(ContagionQuery, c.req.query());
      if (!q.success) return errorResponse(c, 'BAD_REQUEST', q.issues[0]?.message ?? 'invalid query');
      const r = await o.desk.contagion(s.id, q.output.release);
      if (!r) return errorResponse(c, 'NOT_FOUND', 'no contagion release yet: the steward releases one (POST …/privacy/releases {"what":"contagion"}), which spends the space’s privacy budget');
      return c.json({ space: s.code, ...r });
    });

    app.get('/:code/series', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const q = v.safeParse(SeriesQuery, c.req.query());
      if (!q.success) return errorResponse(c, 'BAD_REQUEST', q.issues[0]?.message ?? 'invalid query');
      const r = await o.desk.series(s.id, q.output.release);
      if (!r) return errorResponse(c, 'NOT_FOUND', 'no such series release: the steward releases a series (POST …/privacy/releases), which spends the space’s privacy budget');
      if ((q.output.format ?? 'json') === 'csv') {
        return c.body(dpSeriesCsv(r.points), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="attune-${s.code}-series-${r.n}.csv"` });
      }
      return c.json({ space: s.code, ...r });
    });

    return app;
  };
}
