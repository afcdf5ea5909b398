/**
 * The steward's side of living art (ARTISTS.md): the display mode every unpinned display draws,
 * an embeddable `<iframe>` of the display with the sites allowed to frame it (frame-ancestors),
 * the space's OSC targets, its webhooks with their delivery log, and the public feed URLs.
 */
import { useEffect, useState } from 'preact/hooks';
import { DISPLAY_MODES, type DisplayMode } from '../../../src/core/displayMode.ts';
import { api, html } from '../lib/ui.ts';

interface Delivery {
  readonly delivery: string;
  readonly type: string;
  readonly attempt: number;
  readonly at: number;
  readonly status: number | null;
  readonly outcome: string;
  readonly error?: string;
}

/** The feeds panel for a steward holding `token`. */
export function FeedsPanel({ code, token }: { code: string; token: string | null }) {
  const auth = token ? { authorization: `Bearer ${token}` } : undefined;
  const json = { ...(auth ?? {}), 'content-type': 'application/json' };
  const [mode, setMode] = useState<DisplayMode>('field');
  const [embedMode, setEmbedMode] = useState<DisplayMode>('field');
  const [ancestors, setAncestors] = useState('');
  const [osc, setOsc] = useState('');
  const [hookUrl, setHookUrl] = useState('');
  const [hooks, setHooks] = useState<{ id: string; url: string; events: string[] }[]>([]);
  const [deliveries, setDeliveries] = useState<readonly Delivery[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const say = (e: unknown) => setNote((e as Error).message);

  useEffect(() => {
    api<{ mode: DisplayMode }>(`/api/spaces/${code}/display-mode`).then((r) => setMode(r.mode), () => {});
    if (!token) return;
    api<{ targets: string[] }>(`/api/spaces/${code}/osc`, { headers: auth }).then((r) => setOsc(r.targets.join(', ')), () => {});
    api<{ origins: string[] }>(`/api/spaces/${code}/embed`, { headers: auth }).then((r) => setAncestors(r.origins.join(' ')), () => {});
    const refresh = () =>
      api<{ webhooks: typeof hooks; deliveries: Delivery[] }>(`/api/spaces/${code}/webhooks`, { headers: auth }).then((r) => {
        setHooks(r.webhooks);
        setDeliveries(r.deliveries);
      }, () => {});
    refresh();
    const t = setInterval(refresh, 3000);
    return () => clearInterval(t);
  }, [code, token]);

  const origin = location.origin;
  const snippet = `<iframe src="${origin}/d/${code}?mode=${embedMode}" width="1280" height="720" style="border:0" allow="fullscreen" title="attune — ${code}"></iframe>`;
  return html`
    <div class="card" data-testid="feeds">
      <div class="row">
        <label>Display mode <select data-testid="display-mode" value=${mode} disabled=${!token} onChange=${async (e: Event) => {
          const m = (e.target as HTMLSelectElement).value as DisplayMode;
          try {
            const r = await api<{ mode: DisplayMode }>(`/api/spaces/${code}/display-mode`, { method: 'PUT', headers: json, body: JSON.stringify({ mode: m }) });
            setMode(r.mode);
            setNote(`Displays now draw ${r.mode} (a display opened with ?mode=… keeps its own).`);
          } catch (err) {
            say(err);
          }
        }}>${DISPLAY_MODES.map((m) => html`<option value=${m}>${m}</option>`)}</select></label>
      </div>
      <h3>Embed</h3>
      <label>Mode in the snippet <select value=${embedMode} onChange=${(e: Event) => setEmbedMode((e.target as HTMLSelectElement).value as DisplayMode)}>${DISPLAY_MODES.map((m) => html`<option value=${m}>${m}</option>`)}</select></label>
      <textarea readonly rows="3" data-testid="embed-snippet" style="width:100%;font-family:monospace" value=${snippet}></textarea>
      <label>Sites that may frame the display (origins, space-separated; empty: any site)
        <input data-testid="frame-ancestors" value=${ancestors} disabled=${!token} onInput=${(e: Event) => setAncestors((e.target as HTMLInputElement).value)} style="width:100%" /></label>
      <button class="secondary" disabled=${!token} onClick=${async () => {
        try {
          const r = await api<{ origins: string[] }>(`/api/spaces/${code}/embed`, { method: 'PUT', headers: json, body: JSON.stringify({ origins: ancestors.split(/[\s,]+/).filter(Boolean) }) });
          setNote(r.origins.length ? `Only ${r.origins.join(', ')} may frame the display.` : 'Any site may frame the display.');
        } catch (err) {
          say(err);
        }
      }}>Save allow-list</button>
      <h3>OSC</h3>
      <label>Targets (HOST:PORT, comma-separated) <input data-testid="osc-targets" value=${osc} disabled=${!token} onInput=${(e: Event) => setOsc((e.target as HTMLInputElement).value)} style="width:100%" /></label>
      <button class="secondary" disabled=${!token} onClick=${async () => {
        try {
          const r = await api<{ targets: string[] }>(`/api/spaces/${code}/osc`, { method: 'PUT', headers: json, body: JSON.stringify({ targets: osc.split(',').map((s) => s.trim()).filter(Boolean) }) });
          setNote(r.targets.length ? `Sending OSC bundles to ${r.targets.join(', ')} at the display rate (/attune/${code}/…).` : 'No OSC targets for this space.');
        } catch (err) {
          say(err);
        }
      }}>Save OSC targets</button>
      <h3>Webhooks</h3>
      <div class="row">
        <input placeholder="https://example.org/attune-hook" data-testid="webhook-url" value=${hookUrl} disabled=${!token} onInput=${(e: Event) => setHookUrl((e.target as HTMLInputElement).value)} style="flex:1" />
        <button class="secondary" disabled=${!token || !hookUrl} onClick=${async () => {
          try {
            const r = await api<{ id: string; secret: string }>(`/api/spaces/${code}/webhooks`, { method: 'POST', headers: json, body: JSON.stringify({ url: hookUrl }) });
            setNote(`Webhook ${r.id} added. Its signing secret (shown once): ${r.secret}`);
            setHookUrl('');
          } catch (err) {
            say(err);
          }
        }}>Add webhook</button>
      </div>
      ${hooks.map((h) => html`<div class="row" style="justify-content:space-between"><code>${h.url}</code><span class="muted">${h.events.join(', ')}</span><button class="secondary" onClick=${() => api(`/api/spaces/${code}/webhooks/${h.id}`, { method: 'DELETE', headers: auth }).catch(say)}>Remove</button></div>`)}
      <table data-testid="deliveries" style="width:100%;font-size:0.9em">
        <thead><tr><th align="left">time</th><th align="left">event</th><th>attempt</th><th>status</th><th align="left">outcome</th></tr></thead>
        <tbody>${deliveries.slice(0, 15).map((d) => html`<tr><td>${new Date(d.at).toLocaleTimeString()}</td><td>${d.type}</td><td align="center">${d.attempt}</td><td align="center">${d.status ?? '–'}</td><td>${d.outcome}${d.error ? ` (${d.error})` : ''}</td></tr>`)}</tbody>
      </table>
      <h3>Public feeds</h3>
      <div>Server-sent events: <a href=${`/api/spaces/${code}/stream`}><code>${origin}/api/spaces/${code}/stream</code></a> · the display WebSocket <code>/ws</code> (ARTISTS.md)</div>
      ${note ? html`<p role="status" style="word-break:break-all">${note}</p>` : null}
    </div>
  `;
}
