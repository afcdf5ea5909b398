/**
 * The steward page: the space's code and QR, who is present, alerts as they rise and clear,
 * the time series, and the steward's acts (close, new token) — each of which is logged publicly.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Collective, Pulse } from './lib/affect.ts';
import { Grid } from './lib/grid.ts';
import { AttuneSocket, codeFromPath, type Status } from './lib/socket.ts';
import { api, html, render } from './lib/ui.ts';

type Alert = NonNullable<Collective['alerts']>[number];

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
  const [log, setLog] = useState<{ at: number; text: string }[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [closed, setClosed] = useState(false);
  const [seen, setSeen] = useState<Map<string, Alert>>(new Map());

  const socket = useMemo(
    () =>
      new AttuneSocket(code, 'display', {
        onStatus: setStatus,
        onWelcome: (m) => setName(m.space.name),
        onPulse: setPulse,
        onEnd: (_r, msg) => {
          setClosed(true);
          setMessage(msg);
        },
      }),
    [code],
  );
  useEffect(() => {
    socket.start();
    return () => socket.stop();
  }, [socket]);

  // Alerts: record when each rises and clears.
  useEffect(() => {
    const alerts = pulse?.collective?.alerts ?? [];
    const next = new Map(seen);
    const events: { at: number; text: string }[] = [];
    for (const a of alerts) {
      const prev = next.get(a.id);
      if (!prev) events.push({ at: a.raisedAt ?? a.startedAt, text: `▲ surge: ${a.metric} ${a.direction} (size ${a.magnitude.toFixed(2)}, p=${a.probability.toFixed(2)})` });
      else if (!prev.clearedAt && a.clearedAt) events.push({ at: a.clearedAt, text: `▼ cleared: ${a.metric} ${a.direction}` });
      next.set(a.id, a);
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
        <div><a href=${`/j/${code}`}>join link</a> · <a href=${`/d/${code}`} target="_blank">open display</a></div>
        <div style="margin-top:8px"><strong data-testid="steward-count">${pulse?.count ?? 0}</strong> present${pulse?.suppressed ? ` (aggregates hidden below ${pulse.minCohort})` : ''}</div>
        ${dis ? html`<div>dissonance <strong>${Math.round(dis.score * 100)}%</strong></div>` : null}
      </div>
    </div>
    <${Grid} pulse=${pulse} you=${null} label="The room right now" />
    <h2>Alerts</h2>
    <div class="card" aria-live="polite" data-testid="alerts">
      ${log.length === 0 ? html`<span class="muted">No surges so far.</span>` : log.map((e) => html`<div>${new Date(e.at).toLocaleTimeString()} — ${e.text}</div>`)}
    </div>
    <h2>Data</h2>
    <p><a href=${`/api/spaces/${code}/series?format=csv`}>Download the pulse time series (CSV)</a> — aggregates only.</p>
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
