/**
 * A participant's own data (SPEC H18–H20, V1–V3), authorised by their resume token
 * (`Authorization: Bearer <token>`, the 256-bit secret only their device holds):
 *
 * - `GET /api/consent` (public): the consent text's version (SHA-256), its purposes and sections,
 *   and the same for a story's own consent step (`stories`).
 * - `GET /api/me/export?format=json|emotionml`: everything stored about the participant (EmotionML
 *   formatted by the function the composition root passes in: src/analyze/emotionml).
 * - `POST /api/me/consent` `{"version","purpose"?}`: agrees (again) to the current consent text —
 *   the consent screen's (`pulse`, the default) or the story consent step's (`stories`).
 * - `POST /api/me/erase`: erases it — their point leaves the pulse at once, their inputs, latest
 *   point, consents and session are deleted and their key is destroyed (crypto-shredding).
 *
 * Thin: translate, call the host, answer.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { CONSENT_PURPOSES, CONSENT_TEXT, STORY_CONSENT_PURPOSES, STORY_CONSENT_TEXT, STORY_CONSENT_WHEN } from '../core/consent.ts';
import type { SpaceHost } from '../space/spaceHost.ts';
import { errorResponse } from './app.ts';
import { readJsonBody } from './request.ts';

const ConsentBody = v.strictObject({
  version: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'version must be the consent text’s SHA-256')),
  purpose: v.optional(v.picklist(['pulse', 'stories'], 'purpose must be "pulse" (the consent screen) or "stories" (a story’s own consent step)')),
});
const ExportQuery = v.strictObject({ format: v.optional(v.picklist(['json', 'emotionml'], 'format must be json or emotionml')) });

/** The routes, to mount at the root. */
export function createMeRoutes(o: { readonly host: SpaceHost; readonly toEmotionML: (records: readonly { valence: number; arousal: number; confidence: number; source: 'tap' | 'text' | 'heart'; at: number; id: string }[]) => string }): Hono {
  const app = new Hono();
  const tokenOf = (h: string | undefined) => /^Bearer\s+(\S+)$/i.exec(h ?? '')?.[1] ?? null;

  app.get('/api/consent', (c) =>
    c.json({
      version: o.host.consentVersion,
      purposes: CONSENT_PURPOSES,
      text: CONSENT_TEXT,
      stories: { version: o.host.storyConsentVersion, purposes: STORY_CONSENT_PURPOSES, text: STORY_CONSENT_TEXT, when: STORY_CONSENT_WHEN },
    }),
  );

  app.get('/api/me/export', async (c) => {
    const q = v.safeParse(ExportQuery, c.req.query());
    if (!q.success) return errorResponse(c, 'BAD_REQUEST', q.issues[0]?.message ?? 'invalid query');
    const r = await o.host.exportParticipant(tokenOf(c.req.header('authorization')));
    if (!r.ok) return errorResponse(c, r.code, r.message);
    c.header('cache-control', 'no-store');
    if (q.output.format === 'emotionml') return c.body(o.toEmotionML(r.value.records), 200, { 'content-type': 'application/emotionml+xml; charset=utf-8', 'content-disposition': 'attachment; filename="attune-my-data.emotionml"' });
    return c.body(`${JSON.stringify(r.value.json, null, 2)}\n`, 200, { 'content-type': 'application/json; charset=utf-8', 'content-disposition': 'attachment; filename="attune-my-data.json"' });
  });

  app.post('/api/me/consent', async (c) => {
    const read = await readJsonBody(c, '{"version": "…", "purpose"?: "pulse" | "stories"}');
    if (read instanceof Response) return read;
    const parsed = v.safeParse(ConsentBody, read.body);
    if (!parsed.success) return errorResponse(c, 'BAD_REQUEST', parsed.issues[0]?.message ?? 'invalid body');
    const r = await o.host.consentAgain(tokenOf(c.req.header('authorization')), parsed.output.version, parsed.output.purpose ?? 'pulse');
    if (!r.ok) return errorResponse(c, r.code, r.message);
    return c.json(r.value);
  });

  app.post('/api/me/erase', async (c) => {
    const r = await o.host.eraseParticipant(tokenOf(c.req.header('authorization')));
    if (!r.ok) return errorResponse(c, r.code, r.message);
    return c.json(r.value);
  });

  return app;
}
