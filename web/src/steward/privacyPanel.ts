/**
 * The steward's privacy panel (SPEC R8, H16, H17): the space's privacy budget — ρ, ε at δ, what is
 * spent — every DP release made, and a button to release the series of the space so far. Each
 * release spends budget and is logged publicly before it is answered. Releases made elsewhere on
 * the page (the contagion index) bump `refresh`, and the panel loads the budget again.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, html } from '../lib/ui.ts';

interface PrivacyStatus {
  readonly budget: { readonly rho: number; readonly epsilon: number; readonly delta: number };
  readonly spent: { readonly rho: number; readonly epsilon: number };
  readonly remaining: { readonly rho: number };
  readonly minCohort: number;
  readonly live: { readonly batch: number; readonly noise: number; readonly meanNoise: number; readonly crowd?: { readonly from: number; readonly batch: number; readonly noise: number } } | null;
  readonly releases: readonly { readonly n: number; readonly at: number; readonly what: string; readonly rho: number; readonly params: { readonly bucketMs?: number } }[];
}

/**
 * The panel. `refresh`: a counter the page bumps after another DP release it made (the contagion
 * index spends the same budget, R8): each change loads the budget and the releases again.
 */
export function PrivacyPanel({ code, token, refresh = 0 }: { code: string; token: string | null; refresh?: number }) {
  const [status, setStatus] = useState<PrivacyStatus | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [rho, setRho] = useState('0.05');
  const [bucket, setBucket] = useState('60');
  const load = () => api<PrivacyStatus>(`/api/spaces/${code}/privacy`).then(setStatus, (e: Error) => setMessage(e.message));
  useEffect(() => {
    load();
  }, [refresh]);
  const release = async () => {
    try {
      const r = await api<{ n: number; spent: boolean; sigma: number }>(`/api/spaces/${code}/privacy/releases`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ what: 'series', rho: Number(rho), bucketSeconds: Number(bucket) }),
      });
      setMessage(r.spent ? `Released series #${r.n} (noise σ ≈ ${r.sigma.toFixed(1)} people per window and quadrant).` : `This period was released before as #${r.n}; nothing more was spent.`);
      await load();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  if (!status) return html`<div class="card muted">Loading the privacy budget…</div>`;
  return html`<div class="card" data-testid="privacy">
    <div>Privacy budget <strong data-testid="privacy-spent">ρ ${status.spent.rho.toFixed(3)}</strong> of <strong>ρ ${status.budget.rho}</strong> spent (ε ${status.spent.epsilon.toFixed(2)} of ${status.budget.epsilon.toFixed(2)} at δ = ${status.budget.delta}), per participant.</div>
    <div class="muted">Everything shown describes at least ${status.minCohort} people.${status.live ? ` The live picture changes only once ${status.live.batch} people's points changed, with noise${status.live.crowd ? `; from ${status.live.crowd.from} people on, ${status.live.crowd.batch > 1 ? `once ${status.live.crowd.batch} changed` : 'at every change'}, with more noise` : ''}.` : ''}</div>
    ${status.releases.length === 0 ? html`<p class="muted">No release yet.</p>` : html`<ul data-testid="privacy-releases">${status.releases.map((r) => html`<li>#${r.n} ${r.what} at ${new Date(r.at).toLocaleString()} — ρ ${r.rho}${r.what === 'series' ? html` · <a href=${`/api/spaces/${code}/series?release=${r.n}&format=csv`}>CSV</a>` : null}</li>`)}</ul>`}
    <div class="row">
      <label>ρ <input size="5" value=${rho} onInput=${(e: Event) => setRho((e.target as HTMLInputElement).value)} /></label>
      <label>window (s) <input size="5" value=${bucket} onInput=${(e: Event) => setBucket((e.target as HTMLInputElement).value)} /></label>
      <button class="secondary" disabled=${!token} onClick=${release}>Release the series so far</button>
    </div>
    ${message ? html`<p role="status" data-testid="privacy-message">${message}</p>` : null}
  </div>`;
}
