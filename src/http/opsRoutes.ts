/**
 * Operations endpoints (SPEC O1, O3): `GET /metrics` (Prometheus text format 0.0.4) and
 * `GET /readyz` (200 when ready, 503 with the failing checks when not). Thin: the server's
 * metrics and readiness (src/server/metrics.ts, health.ts) do the work. `/healthz` (liveness)
 * stays in app.ts.
 */
import { Hono } from 'hono';

/** What the routes read. */
export interface OpsRoutesOptions {
  readonly metrics: { render(): Promise<string>; readonly contentType: string };
  readonly readiness: { report(): Promise<{ readonly ready: boolean; readonly draining: boolean; readonly checks: readonly object[] }> };
}

/** The `/metrics` and `/readyz` routes, to mount at `/`. */
export function createOpsRoutes(o: OpsRoutesOptions): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
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
