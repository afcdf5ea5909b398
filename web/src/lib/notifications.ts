/**
 * What `notify` policies sent (SPEC Q5, Q13), on the steward page and the council page: read with
 * the steward's token (every notification) or a member's (those addressed to the council) from
 * `GET /api/spaces/CODE/notifications?after=N`, asking every two seconds only for what is newer
 * than the last one shown. Each links to the `policy.fired` entry that sent it.
 */
import { useEffect, useState } from 'preact/hooks';
import { html } from './ui.ts';

/** One notification as the API returns it. */
export interface NotificationItem {
  readonly n: number;
  readonly at: number;
  readonly audience: 'steward' | 'council';
  readonly message: string;
  readonly policy: { readonly id: string; readonly version: number; readonly name: string };
  readonly entry: number | null;
}

/** How often the pages ask for new notifications, ms. */
export const NOTIFICATION_POLL_MS = 2000;

/** Adds newly read notifications to those shown (newest first, each once, at most `keep`). */
export function mergeNotifications(shown: readonly NotificationItem[], fresh: readonly NotificationItem[], keep = 100): NotificationItem[] {
  const known = new Set(shown.map((x) => x.n));
  const added = fresh.filter((x) => !known.has(x.n));
  if (added.length === 0) return shown as NotificationItem[];
  return [...added, ...shown].sort((a, b) => b.n - a.n).slice(0, keep);
}

/** The notifications panel; renders nothing without a token. */
export function Notifications({ code, token }: { code: string; token: string | null }) {
  const [items, setItems] = useState<NotificationItem[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!token) return;
    let live = true;
    let after = 0;
    const load = async () => {
      try {
        const r = await fetch(`/api/spaces/${code}/notifications?after=${after}`, { headers: { authorization: `Bearer ${token}` } });
        const j = (await r.json()) as { notifications?: NotificationItem[]; error?: { message: string } };
        if (!live) return;
        if (!r.ok) return setError(j.error?.message ?? `HTTP ${r.status}`);
        setError(null);
        const fresh = j.notifications ?? [];
        for (const x of fresh) after = Math.max(after, x.n);
        if (fresh.length) setItems((shown) => mergeNotifications(shown, fresh));
      } catch {
        // Offline for a moment: the next poll asks again from the same number.
      }
    };
    void load();
    const t = setInterval(load, NOTIFICATION_POLL_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [code, token]);
  if (!token) return null;
  return html`<section class="card" aria-live="polite" data-testid="notifications">
    <h2>Notifications</h2>
    ${error ? html`<p class="error">${error}</p>` : null}
    ${items.length === 0 ? html`<p class="muted" data-testid="notifications-none">No notifications from the council's policies yet.</p>` : null}
    ${items.map(
      (x) => html`<div data-testid="notification">
        ${new Date(x.at).toLocaleTimeString()} · to the ${x.audience}: <strong>${x.message}</strong>
        <span class="muted"> — policy “${x.policy.name}” (v${x.policy.version})${x.entry !== null ? html` · <a href=${`/audit#entry-${x.entry}`}>log entry ${x.entry}</a>` : null}</span>
      </div>`,
    )}
  </section>`;
}
