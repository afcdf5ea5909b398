/**
 * The steward's side of linked spaces (docs/bridging.md): agree to link this space with another
 * (each steward must agree; every agreement is an act on the public log), see the spaces linked
 * now and open them side by side on /compare.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, html } from './ui.ts';

/** The link form and the list of linked spaces, for a steward holding `token`. */
export function LinkPanel({ code, token }: { code: string; token: string | null }) {
  const [other, setOther] = useState('');
  const [linked, setLinked] = useState<string[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const refresh = () => api<{ linked: string[] }>(`/api/spaces/${code}/links`).then((r) => setLinked(r.linked), () => {});
  useEffect(() => {
    refresh();
    const t = setInterval(refresh, 5000);
    return () => clearInterval(t);
  }, [code]);
  const ask = async (agree: boolean, withCode: string) => {
    if (!token) return;
    try {
      const r = await api<{ linked: boolean; with: string }>(`/api/spaces/${code}/links`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ with: withCode, agree }) });
      setNote(agree ? (r.linked ? `Linked with ${r.with}.` : `You agreed to link with ${r.with} (logged); waiting for its steward.`) : `No longer linked with ${r.with}.`);
      setOther('');
      await refresh();
    } catch (e) {
      setNote((e as Error).message);
    }
  };
  return html`<div class="card" data-testid="links">
    <p class="muted">Link this space with another room, city or night: both stewards must agree, and each agreement is written to the public log. Linked spaces can be shown side by side with the bridging score between them.</p>
    <form
      class="row"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        if (other.trim()) ask(true, other.trim());
      }}
    >
      <input aria-label="join code of the other space" placeholder="other space's code" value=${other} onInput=${(e: Event) => setOther((e.target as HTMLInputElement).value)} data-testid="link-code" />
      <button type="submit" class="secondary" disabled=${!token} data-testid="link-submit">Agree to link</button>
    </form>
    ${note ? html`<p role="status" data-testid="link-note">${note}</p>` : null}
    ${
      linked.length
        ? html`<p data-testid="linked">Linked with ${linked.map((c) => html`<code>${c}</code> (<a href=${`/compare?spaces=${code},${c}`} data-testid=${`compare-${c}`}>compare</a>, <button class="link" onClick=${() => ask(false, c)}>unlink</button>) `)}</p>`
        : null
    }
  </div>`;
}
