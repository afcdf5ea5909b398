/**
 * Routes of the live feeds (ARTISTS.md): the released display pulse as server-sent events, the
 * display mode a steward chooses, the space's OSC targets and its webhooks. They only translate
 * HTTP ↔ the feeds (src/feeds), which follow the released views on the bus.
 *
 *   GET  /api/spaces/:code/stream             public: text/event-stream of pulses (id = seq), resumable;
 *                                             `?events=mode`: only the display-mode events
 *   GET  /api/spaces/:code/display-mode       public: the mode in force
 *   PUT  /api/spaces/:code/display-mode       steward: choose a mode
 *   GET  /api/spaces/:code/osc                steward: the space's OSC targets
 *   PUT  /api/spaces/:code/osc                steward: replace them
 *   GET/PUT /api/spaces/:code/embed           steward: the display's frame-ancestors allow-list
 *   GET  /api/spaces/:code/webhooks           steward: subscriptions and the delivery log
 *   POST /api/spaces/:code/webhooks           steward: add one (the signing secret is returned once)
 *   DELETE /api/spaces/:code/webhooks/:id     steward: remove one
 */
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import * as v from 'valibot';
import { DISPLAY_MODES, isDisplayMode } from '../core/displayMode.ts';
import type { DisplayModeBook } from '../feeds/displayModes.ts';
import { checkOrigins, type EmbedBook } from '../feeds/embedBook.ts';
import type { FeedAudience } from '../feeds/feedAudience.ts';
import type { FeedSettings } from '../feeds/feedSettings.ts';
import { formatOscTarget, type OscFeed, type OscTarget, parseOscTarget } from '../feeds/osc/oscFeed.ts';
import type { PulseHistory } from '../feeds/sse/pulseHistory.ts';
import { WEBHOOK_EVENTS, type WebhookBook } from '../feeds/webhooks/webhookBook.ts';
import type { SpaceHost } from '../space/spaceHost.ts';
import type { SpaceRecord } from '../storage/port.ts';
import { errorResponse } from './app.ts';
import { bearer, readJsonBody } from './request.ts';

/** What the routes need. */
export interface FeedRoutesOptions {
  readonly host: SpaceHost;
  readonly history: PulseHistory;
  readonly modes: DisplayModeBook;
  /** Joins a space as a display while a feed needs its display-rate pulses. */
  readonly audience: FeedAudience;
  readonly osc?: OscFeed | null;
  readonly webhooks?: WebhookBook | null;
  /** The display's frame-ancestors allow-lists. */
  readonly embeds?: EmbedBook | null;
  /** Changes the steward's settings (OSC targets, allow-list, webhooks): stored, then in force (S13). */
  readonly settings: FeedSettings;
  /** Client retry delay sent to EventSource, ms. */
  readonly retryMs?: number;
}

/** Looks a space up by the route's `:code` (the app's, which spends the join-guess budget, W13). */
export type SpaceLookup = (c: Context) => Promise<SpaceRecord | Response>;

/** `Last-Event-ID` (or `?lastEventId=` for clients that cannot set headers) as a seq, or null. */
export function resumePoint(header: string | undefined, query: string | undefined): number | null {
  const raw = header ?? query;
  if (raw === undefined || !/^\d{1,15}$/.test(raw.trim())) return null;
  return Number(raw.trim());
}

const ModeBody = v.strictObject({ mode: v.picklist(DISPLAY_MODES, `mode must be one of ${DISPLAY_MODES.join(', ')}`) });
const OscBody = v.strictObject({ targets: v.pipe(v.array(v.pipe(v.string(), v.maxLength(300))), v.maxLength(64)) });
const EmbedBody = v.strictObject({ origins: v.pipe(v.array(v.pipe(v.string(), v.maxLength(300))), v.maxLength(64)) });
const WebhookBody = v.strictObject({
  url: v.pipe(v.string(), v.maxLength(2000), v.url('url must be an absolute URL')),
  events: v.optional(v.pipe(v.array(v.picklist(WEBHOOK_EVENTS)), v.maxLength(WEBHOOK_EVENTS.length))),
});

/** A body that read as JSON but does not fit: the first issue, coded. */
function bodyError(c: Context, issues?: readonly v.BaseIssue<unknown>[]): Response {
  return errorResponse(c, 'BAD_REQUEST', issues?.[0]?.message ?? 'invalid body');
}

/** The feed routes, to mount at `/api/spaces`. */
export function createFeedRoutes(o: FeedRoutesOptions): (withSpace: SpaceLookup) => Hono {
  return (withSpace) => {
    const app = new Hono();
    const steward = async (c: Context): Promise<SpaceRecord | Response> => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const auth = await o.host.authorise(s.code, bearer(c));
      return auth.ok ? auth.value : errorResponse(c, auth.code, auth.message);
    };

    app.get('/:code/stream', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      if (s.status !== 'open') return errorResponse(c, 'SPACE_CLOSED', 'this space has closed');
      const after = resumePoint(c.req.header('last-event-id'), c.req.query('lastEventId'));
      // Public, like the display it mirrors: any page (an artist's sketch, a file://) may read it.
      c.header('access-control-allow-origin', '*');
      c.header('cache-control', 'no-store');
      c.header('x-accel-buffering', 'no');
      const signal = c.req.raw.signal;
      // `?events=mode`: the mode changes only (display pages, which get pulses on their socket).
      const modesOnly = c.req.query('events') === 'mode';
      return streamSSE(c, async (stream) => {
        const hold = modesOnly ? null : await o.audience.hold(s.code);
        const abort = new AbortController();
        stream.onAbort(() => abort.abort());
        signal.addEventListener('abort', () => abort.abort(), { once: true });
        await stream.writeSSE({ event: 'mode', data: JSON.stringify({ space: s.code, ...o.modes.get(s.id) }), retry: o.retryMs ?? 1000 });
        const stopModes = o.modes.listen((id, choice) => {
          if (id === s.id) void stream.writeSSE({ event: 'mode', data: JSON.stringify({ space: s.code, ...choice }) });
        });
        try {
          if (modesOnly) {
            await new Promise<void>((res) => (abort.signal.aborted ? res() : abort.signal.addEventListener('abort', () => res(), { once: true })));
            return;
          }
          for await (const item of o.history.stream(s.id, after, abort.signal)) {
            if (item.kind === 'pulse') await stream.writeSSE({ event: 'pulse', id: String(item.pulse.seq), data: item.pulse.data });
            else if (item.kind === 'gap') await stream.writeSSE({ event: 'gap', data: JSON.stringify({ after: item.after, next: item.next }) });
            else {
              await stream.writeSSE({ event: 'end', data: JSON.stringify({ reason: item.reason }) });
              break;
            }
          }
        } finally {
          stopModes.dispose();
          hold?.release();
        }
      });
    });

    app.get('/:code/display-mode', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      return c.json({ space: s.code, modes: DISPLAY_MODES, ...o.modes.get(s.id) });
    });

    app.put('/:code/display-mode', async (c) => {
      const s = await steward(c);
      if (s instanceof Response) return s;
      if (s.status !== 'open') return errorResponse(c, 'SPACE_CLOSED', 'this space has closed');
      const read = await readJsonBody(c);
      if (read instanceof Response) return read;
      const body = read.body;
      const parsed = v.safeParse(ModeBody, body);
      if (!parsed.success || !isDisplayMode(parsed.output.mode)) return bodyError(c, parsed.issues);
      // A governance act (issue 15, SPEC Q9): on the public log first, then in the released view;
      // the book hears of it from the host once applied (server/feeds.ts).
      const r = await o.host.setDisplayMode(s.code, bearer(c), parsed.output.mode);
      if (!r.ok) return errorResponse(c, r.code, r.message);
      return c.json({ space: s.code, ...o.modes.get(s.id) });
    });

    app.get('/:code/osc', async (c) => {
      const s = await steward(c);
      if (s instanceof Response) return s;
      if (!o.osc) return errorResponse(c, 'NOT_FOUND', 'this server has no OSC feed');
      return c.json({ targets: o.osc.spaceTargets(s.id).map(formatOscTarget), serverTargets: o.osc.targetsOf('').map(formatOscTarget), stats: o.osc.stats });
    });

    app.put('/:code/osc', async (c) => {
      const s = await steward(c);
      if (s instanceof Response) return s;
      if (!o.osc) return errorResponse(c, 'NOT_FOUND', 'this server has no OSC feed');
      const read = await readJsonBody(c);
      if (read instanceof Response) return read;
      const body = read.body;
      const parsed = v.safeParse(OscBody, body);
      if (!parsed.success) return bodyError(c, parsed.issues);
      const targets: OscTarget[] = [];
      for (const spec of parsed.output.targets) {
        const t = parseOscTarget(spec);
        if (typeof t === 'string') return errorResponse(c, 'BAD_REQUEST', t);
        targets.push(t);
      }
      const r = await o.settings.setOscTargets(s, targets);
      if (!r.ok) return errorResponse(c, r.code, r.message);
      return c.json({ targets: r.value.map(formatOscTarget) });
    });

    app.get('/:code/embed', async (c) => {
      const s = await steward(c);
      if (s instanceof Response) return s;
      return c.json({ origins: o.embeds?.origins(s.code) ?? [] });
    });

    app.put('/:code/embed', async (c) => {
      const s = await steward(c);
      if (s instanceof Response) return s;
      if (!o.embeds) return errorResponse(c, 'NOT_FOUND', 'this server has no embed settings');
      const read = await readJsonBody(c);
      if (read instanceof Response) return read;
      const body = read.body;
      const parsed = v.safeParse(EmbedBody, body);
      if (!parsed.success) return bodyError(c, parsed.issues);
      const bad = checkOrigins(parsed.output.origins);
      if (bad) return errorResponse(c, 'BAD_REQUEST', bad);
      const r = await o.settings.setFrameAncestors(s, parsed.output.origins);
      if (!r.ok) return errorResponse(c, r.code, r.message);
      return c.json({ origins: r.value });
    });

    app.get('/:code/webhooks', async (c) => {
      const s = await steward(c);
      if (s instanceof Response) return s;
      if (!o.webhooks) return errorResponse(c, 'NOT_FOUND', 'this server sends no webhooks');
      return c.json({ webhooks: o.webhooks.list(s.id), deliveries: await o.webhooks.listDeliveries(s.id) });
    });

    app.post('/:code/webhooks', async (c) => {
      const s = await steward(c);
      if (s instanceof Response) return s;
      if (!o.webhooks) return errorResponse(c, 'NOT_FOUND', 'this server sends no webhooks');
      const read = await readJsonBody(c);
      if (read instanceof Response) return read;
      const body = read.body;
      const parsed = v.safeParse(WebhookBody, body);
      if (!parsed.success) return bodyError(c, parsed.issues);
      const r = await o.settings.addWebhook(s, parsed.output.url, parsed.output.events);
      if (!r.ok) return errorResponse(c, r.code, r.message);
      return c.json(r.value, 201);
    });

    app.delete('/:code/webhooks/:id', async (c) => {
      const s = await steward(c);
      if (s instanceof Response) return s;
      if (!o.webhooks) return errorResponse(c, 'NOT_FOUND', 'this server sends no webhooks');
      const r = await o.settings.removeWebhook(s, c.req.param('id'));
      if (!r.ok) return errorResponse(c, r.code, r.message);
      return c.json({ ok: true });
    });

    return app;
  };
}
