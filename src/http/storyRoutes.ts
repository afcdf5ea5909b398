/**
 * Story routes (SPEC ST14): they only translate HTTP ↔ the host's story calls. A participant
 * authorises with their own resume token (`Authorization: Bearer …`, the token their device got
 * in its welcome), a steward with the steward token.
 *
 *   POST   /api/spaces/:code/stories               participant: share a story {text, name?, consent: true}
 *   GET    /api/spaces/:code/stories/mine          participant: their own stories and states
 *   DELETE /api/spaces/:code/stories/:id           participant: withdraw (erase) one of theirs
 *   GET    /api/spaces/:code/stories/shown         public: the gathering display's released view
 *   GET    /api/spaces/:code/stories/queue         steward: the moderation queue and the settings
 *   POST   /api/spaces/:code/stories/:id/decision  steward: {decision, reason?} — a logged act
 *   PUT    /api/spaces/:code/stories/settings      steward: {enabled, moderation} — a logged act
 *   POST   /api/spaces/:code/stories/display       steward: {control, story?} — pin/unpin/skip/pause/resume
 *   GET    /api/spaces/:code/stories/export        steward: the shown stories, for the session export
 */
import { type Context, Hono } from 'hono';
import * as v from 'valibot';
import type { Result } from '../core/errors.ts';
import { DECISIONS, DECLINE_REASONS, MODERATION_MODES, STORY_CONTROLS } from '../core/stories/stories.ts';
import type { SpaceHost } from '../space/spaceHost.ts';
import { errorResponse } from './app.ts';
import type { SpaceLookup } from './feedRoutes.ts';
import { bearer, readJsonBody } from './request.ts';

// Lengths are checked by core/stories/storyText.ts in characters, with their own codes; the
// schema only bounds the raw string so nothing absurd is normalised.
const ShareBody = v.strictObject({
  text: v.pipe(v.string('text must be a string'), v.maxLength(16_384, 'the story is far too long')),
  name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(1000, 'the pseudonym is far too long')))),
  consent: v.boolean('consent must be true or false'),
});
const DecisionBody = v.strictObject({
  decision: v.picklist(DECISIONS, `decision must be one of ${DECISIONS.join(', ')}`),
  reason: v.optional(v.picklist(DECLINE_REASONS, `reason must be one of ${DECLINE_REASONS.join(', ')}`)),
});
const SettingsBody = v.strictObject({ enabled: v.boolean('enabled must be true or false'), moderation: v.optional(v.picklist(MODERATION_MODES, 'moderation must be pre or post'), 'pre') });
const ControlBody = v.strictObject({ control: v.picklist(STORY_CONTROLS, `control must be one of ${STORY_CONTROLS.join(', ')}`), story: v.optional(v.pipe(v.string(), v.maxLength(64))) });

/** Parses a JSON body against a schema, or answers with the coded error. */
async function parse<T extends v.GenericSchema>(c: Context, schema: T): Promise<v.InferOutput<T> | Response> {
  const read = await readJsonBody(c);
  if (read instanceof Response) return read;
  const r = v.safeParse(schema, read.body);
  if (!r.success) {
    const i = r.issues[0];
    const path = i?.path?.map((p) => String(p.key)).join('.');
    return errorResponse(c, 'BAD_REQUEST', path && !i?.message.startsWith(path) ? `${path}: ${i?.message}` : (i?.message ?? 'invalid body'));
  }
  return r.output;
}

function reply<T>(c: Context, r: Result<T>, status: 200 | 201 = 200): Response {
  c.header('cache-control', 'no-store');
  return r.ok ? c.json(r.value as object, status) : errorResponse(c, r.code, r.message);
}

/** The story routes, to mount at `/api/spaces` (with the app's code lookup, which spends the join-guess budget, W13). */
export function createStoryRoutes(o: { readonly host: SpaceHost }): (withSpace: SpaceLookup) => Hono {
  const host = o.host;
  return (withSpace) => {
    const app = new Hono();

    app.post('/:code/stories', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await parse(c, ShareBody);
      if (body instanceof Response) return body;
      return reply(c, await host.submitStory(s.code, bearer(c), body), 201);
    });

    app.get('/:code/stories/mine', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      return reply(c, await host.myStories(s.code, bearer(c)));
    });

    app.get('/:code/stories/shown', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const view = host.storiesView(s.id);
      if (!view) return errorResponse(c, 'SPACE_CLOSED', 'this space has closed');
      c.header('cache-control', 'no-store');
      return c.json(view);
    });

    app.get('/:code/stories/queue', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      return reply(c, await host.storyQueue(s.code, bearer(c)));
    });

    app.get('/:code/stories/export', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const r = await host.storyExport(s.code, bearer(c));
      if (!r.ok) return errorResponse(c, r.code, r.message);
      c.header('cache-control', 'no-store');
      c.header('content-disposition', `attachment; filename="attune-${s.code}-stories.json"`);
      return c.json({ space: s.code, stories: r.value });
    });

    app.put('/:code/stories/settings', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await parse(c, SettingsBody);
      if (body instanceof Response) return body;
      return reply(c, await host.setStorySettings(s.code, bearer(c), body));
    });

    app.post('/:code/stories/display', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await parse(c, ControlBody);
      if (body instanceof Response) return body;
      return reply(c, await host.controlStories(s.code, bearer(c), body.control, body.story ?? null));
    });

    app.post('/:code/stories/:id/decision', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await parse(c, DecisionBody);
      if (body instanceof Response) return body;
      if (body.decision !== 'decline' && body.reason) return errorResponse(c, 'BAD_REQUEST', 'a reason goes only with decline');
      return reply(c, await host.moderateStory(s.code, bearer(c), c.req.param('id'), body.decision, body.reason ?? null));
    });

    app.delete('/:code/stories/:id', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      return reply(c, await host.withdrawStory(s.code, bearer(c), c.req.param('id')));
    });

    return app;
  };
}
