/**
 * Operations endpoints (SPEC O1, O3): `GET /metrics` (Prometheus text format 0.0.4) and
 * `GET /readyz` (200 when ready, 503 with the failing checks when not). Thin: the server's
 * metrics and readiness (src/server/metrics.ts, health.ts) do the work. `/healthz` (liveness)
 * stays in app.ts.
 *
 * `/metrics` tells whoever reads it how busy the server is, which spaces it ticks and whether its
 * database is up; with a metrics token (`attune serve --metrics-token`, O6) it answers only a
 * scraper that sends `Authorization: Bearer <token>`. The token is compared as SHA-256 digests
 * in constant time, so neither its length nor a prefix leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { errorResponse } from './app.ts';
import { bearer } from './request.ts';

/** What the routes read. */
export interface OpsRoutesOptions {
  readonly metrics: { render(): Promise<string>; readonly contentType: string };
  readonly readiness: { report(): Promise<{ readonly ready: boolean; readonly draining: boolean; readonly checks: readonly object[] }> };
  /** When set, `/metrics` needs `Authorization: Bearer <metricsToken>` (O6). */
  readonly metricsToken?: string | null;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The `/metrics` and `/readyz` routes, to mount at `/`. */
export function createOpsRoutes(o: OpsRoutesOptions): Hono {
  const app = new Hono();
  const wanted = o.metricsToken ? digest(o.metricsToken) : null;
  app.get('/metrics', async (c) => {
    if (wanted) {
      const given = bearer(c);
      if (given === null || !timingSafeEqual(digest(given), wanted)) {
        c.header('www-authenticate', 'Bearer realm="attune-metrics"');
        c.header('cache-control', 'no-store');
        return errorResponse(c, 'UNAUTHORIZED', given === null ? 'this server needs its metrics token: send Authorization: Bearer <token> (attune serve --metrics-token)' : 'that is not this server’s metrics token');
      }
    }
    const body = await o.metrics.render();
    return c.body(body, 200, { 'content-type': o.metrics.contentType, 'cache-control': 'no-store' });
  });
  app.get('/readyz', async (c) => {
    const r = await o.readiness.report();
    c.header('cache-control', 'no-store');
    return c.json(r, r.ready ? 200 : 503);
  });
  return app;
}
