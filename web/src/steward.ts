/**
 * The steward page: the space's code and QR, who is present, alerts as they rise and clear,
 * the time series, and the steward's acts (close, new token) — each of which is logged publicly.
 */
import { useEffect, useState } from 'preact/hooks';
import { metricLabel, type Pulse } from './lib/affect.ts';
import { Grid } from './lib/grid.ts';
import { GroupsPanel } from './lib/groups.ts';
import { HeartRoom } from './lib/heartRoom.ts';
import { LinkPanel } from './lib/links.ts';
import { FeedsPanel } from './steward/feedsPanel.ts';
import { StoriesPanel } from './steward/storiesPanel.ts';
import type { StoriesView } from '../../src/core/release/stories.ts';
import { PrivacyPanel } from './steward/privacyPanel.ts';
import { codeFromPath, useSpaceSocket, type Status } from './lib/socket.ts';
import { api, html, render } from './lib/ui.ts';
import { Notifications } from './lib/notifications.ts';


function tokenFromHash(code: string): string | null {
  const m = /token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m?.[1]) {
    localStorage.setItem(`attune:${code}:steward`, m[1]);
    history.replaceState(null, '', location.pathname); // keep the token off screens and history
  }
  return localStorage.getItem(`attune:${code}:steward`);
}

function App() {
  const code = codeFromPath();
  const [token, setToken] = useState<string | null>(() => tokenFromHash(code));
  const [pulse, setPulse] = useState<Pulse | null>(null);
  const [status, setStatus] = useState<Status>('connecting');
  const [name, setName] = useState('');
  const [groups, setGroups] = useState<readonly string[]>([]);
  const [log, setLog] = useState<{ at: number; text: string }[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [closed, setClosed] = useState(false);
  const [seen, setSeen] = useState<Set<string>>(new Set());
  const [contagion, setContagion] = useState<string | null>(null);
  const [contagionRho, setContagionRho] = useState('0.05');
  // Bumped after a contagion release: it spends the privacy budget, so the privacy panel reloads (R8).
  const [released, setReleased] = useState(0);
  const [stories, setStories] = useState<StoriesView | null>(null);

  useSpaceSocket(code, 'display', {
    onStatus: setStatus,
    onWelcome: (m) => {
      setName(m.space.name);
      setGroups(m.space.groups ?? []);
    },
    onPulse: setPulse,
    onStories: setStories,
    onEnd: (_r, msg) => {
      setClosed(true);
      setMessage(msg);
    },
  });

  // Alerts: record when each rises and clears.
  useEffect(() => {
    const c = pulse?.collective;
    if (!c) return;
    const next = new Set(seen);
    const events: { at: number; text: string }[] = [];
    // One change, one alert: the moving metrics are listed on it. Active alerts and the recent
    // cleared list (not only this tick's messages) so that a dropped pulse loses nothing.
    const moving = (a: (typeof c.alerts)[number]) => a.metrics.map((m) => `${metricLabel(m.metric)} ${m.direction === 'up' ? '↑' : '↓'}${m.metric === 'camps' ? ` ${m.baseline}→${m.baseline + m.magnitude}` : ''}`).join(', ');
    for (const a of c.alerts) {
      if (next.has(`r${a.id}`)) continue;
      next.add(`r${a.id}`);
      events.push({ at: a.raisedAt, text: `▲ change: ${moving(a)} — ${Math.round(a.magnitude * 100)}% of the room moved since ${new Date(a.startedAt).toLocaleTimeString()}, probability ${(a.probability * 100).toFixed(0)}%` });
    }
    for (const a of c.cleared) {
      if (next.has(`c${a.id}`)) continue;
      next.add(`c${a.id}`).add(`r${a.id}`);
      events.push({ at: a.clearedAt, text: `▼ cleared: ${moving(a) || metricLabel(a.metric)} — ${a.reason}` });
    }
    for (const t of c.trends ?? []) {
      if (next.has(`t${t.id}`)) continue;
      next.add(`t${t.id}`);
      events.push({ at: t.raisedAt, text: `→ slow trend: ${t.metrics.map((m) => `${metricLabel(m.metric)} ${m.ratePerMin >= 0 ? '+' : ''}${m.ratePerMin.toFixed(2)}/min`).join(', ')}` });
    }
    if (events.length) {
      setSeen(next);
      setLog((l) => [...events, ...l].slice(0, 200));
    }
  }, [pulse]);

  const act = async (what: 'close' | 'rotate') => {
    if (!token) return;
    if (what === 'close' && !confirm('Close this space for everyone? This cannot be undone and is logged publicly.')) return;
    try {
      if (what === 'close') {
        await api(`/api/spaces/${code}/close`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        setClosed(true);
        setMessage('Space closed. Everyone was told; the act is in the public log.');
      } else {
        const r = await api<{ stewardToken: string }>(`/api/spaces/${code}/steward-token`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        localStorage.setItem(`attune:${code}:steward`, r.stewardToken);
        setToken(r.stewardToken);
        setMessage(`New steward token: ${r.stewardToken} — the old one no longer works.`);
      }
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  const dis = pulse?.collective?.dissonance;
  return html`
    <div class="row" style="justify-content:space-between"><h1>${name || code}</h1><span class=${`status ${status}`}>${status}</span></div>
    <div class="card row" style="align-items:flex-start">
      <img src=${`/api/spaces/${code}/qr.svg`} alt="join QR code" style="background:#fff;border-radius:10px;padding:6px;width:140px" />
      <div>
        <div>Join code <code class="big">${code}</code></div>
        <div><a href=${`/j/${code}`}>join link</a> · <a href=${`/d/${code}`} target="_blank">open display</a> · <a href=${`/c/${code}`} data-testid="council-link">council</a></div>
        <div style="margin-top:8px"><strong data-testid="steward-count">${pulse?.count ?? 0}</strong> present${pulse?.suppressed ? ` (aggregates hidden below ${pulse.minCohort})` : ''}</div>
        ${dis ? html`<div>dissonance <strong>${Math.round(dis.score * 100)}%</strong></div>` : null}
        <${HeartRoom} heart=${pulse?.heart} minCohort=${pulse?.minCohort ?? 3} />
      </div>
    </div>
    <${Notifications} code=${code} token=${token} />
    <${Grid} pulse=${pulse} you=${null} label="The room right now" />
    ${groups.length ? html`<h2>Groups</h2><${GroupsPanel} names=${groups} pulse=${pulse} />` : null}
    <h2>Linked spaces</h2>
    <${LinkPanel} code=${code} token=${token} />
    <h2>Stories</h2>
    <${StoriesPanel} code=${code} token=${token} view=${stories} />
    <h2>Displays, OSC, webhooks and embedding</h2>
    <${FeedsPanel} code=${code} token=${token} />
    <h2>Alerts</h2>
    <div class="card" aria-live="polite" data-testid="alerts">
      ${log.length === 0 ? html`<span class="muted">No alerts so far.</span>` : log.map((e) => html`<div>${new Date(e.at).toLocaleTimeString()} — ${e.text}</div>`)}
    </div>
    <h2>Contagion</h2>
    <p class="muted">Do people who see the pulse move toward it more than people who do not? Released with differential privacy: each release spends ρ of this space's privacy budget, is on the public log, and is withheld while fewer than the minimum cohort count on either side (PRIVACY.md).</p>
    <label>ρ <input type="number" min="0.001" max="10" step="0.01" value=${contagionRho} onInput=${(e: Event) => setContagionRho((e.target as HTMLInputElement).value)} data-testid="contagion-rho" /></label>
    <button class="secondary" disabled=${!token} onClick=${async () => {
      try {
        const r = await api<{ n: number; spent: boolean; withheld: boolean; index: number | null; noiseSd: number | null; exposedPeople: number; unexposedPeople: number; sigma: number; rho: number }>(`/api/spaces/${code}/privacy/releases`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ what: 'contagion', rho: Number(contagionRho) }),
        });
        setReleased((n) => n + 1);
        const spent = r.spent ? `release #${r.n}, ρ ${r.rho} spent` : `released before as #${r.n}; nothing more spent`;
        setContagion(r.withheld || r.index === null ? `Withheld: too few people on one side (about ${r.exposedPeople} exposed, ${r.unexposedPeople} not; noise σ ≈ ${r.sigma.toFixed(1)} people) — ${spent}.` : `Contagion index ${r.index.toFixed(2)} ± ${(r.noiseSd ?? 0).toFixed(2)} (noise alone) over about ${r.exposedPeople} exposed and ${r.unexposedPeople} unexposed people — ${spent}.`);
      } catch (e) {
        setContagion((e as Error).message);
      }
    }}>Release contagion</button>
    ${contagion ? html`<p data-testid="contagion">${contagion}</p>` : null}
    <h2>Data</h2>
    <p class="muted">The time series leaves the server only as a differentially private release, which spends this space's privacy budget (PRIVACY.md).</p>
    <${PrivacyPanel} code=${code} token=${token} refresh=${released} />
    <h2>Steward acts</h2>
    ${
      token
        ? html`<div class="row">
            <button class="secondary" onClick=${() => act('rotate')} disabled=${closed}>New steward token</button>
            <button class="danger" onClick=${() => act('close')} disabled=${closed}>Close space</button>
          </div>`
        : html`<p class="error">This device has no steward token for ${code}. Open the steward link you were given (it ends in #token=…).</p>`
    }
    ${message ? html`<p role="status" style="word-break:break-all">${message}</p>` : null}
    <p class="muted">Every act here is written to the <a href="/audit">public log</a>.</p>
  `;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
