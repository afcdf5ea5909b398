/**
 * The public audit page: the log's checkpoint and its entries, each with its inclusion status
 * verified here in the browser (WebCrypto SHA-256 and Ed25519, the core's RFC 9162 verifier).
 * Pin the log's verifier key (`attune log key`) with `?key=…` or the form; it is remembered.
 */
import { useEffect, useState } from 'preact/hooks';
import { encodeBase64 } from '../../../src/core/note/base64.ts';
import { html, render } from '../lib/ui.ts';
import { type CheckedCheckpoint, checkEntries, type EntryRow, fetchCheckpoint } from './verifyLog.ts';
import { webCryptoHasher, webNoteVerifier } from './webCrypto.ts';

const PAGE = 50;
const KEY_STORE = 'attune:log-verifier-key';

function initialKey(): string {
  const fromUrl = new URLSearchParams(location.search).get('key');
  if (fromUrl) localStorage.setItem(KEY_STORE, fromUrl);
  return fromUrl ?? localStorage.getItem(KEY_STORE) ?? '';
}

function App() {
  const [key, setKey] = useState(initialKey);
  const [draft, setDraft] = useState(key);
  const [cp, setCp] = useState<CheckedCheckpoint | null>(null);
  const [rows, setRows] = useState<EntryRow[]>([]);
  const [start, setStart] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setBusy(true);
    setError(null);
    (async () => {
      const verifier = key ? await webNoteVerifier(key) : null;
      const checked = await fetchCheckpoint(fetch, '', verifier);
      const first = Math.max(0, checked.checkpoint.size - PAGE - start);
      const list = await checkEntries(fetch, '', webCryptoHasher(), checked.checkpoint, first, Math.min(PAGE, checked.checkpoint.size - start) || 1);
      if (!cancelled) {
        setCp(checked);
        setRows(list.slice().reverse());
      }
    })()
      .catch((e: Error) => !cancelled && setError(e.message))
      .finally(() => !cancelled && setBusy(false));
    return () => {
      cancelled = true;
    };
  }, [key, start]);

  const sig = cp?.signature;
  const included = rows.filter((r) => r.status.included).length;
  return html`
    <h1>Transparency log</h1>
    <p class="muted">Every governance act of this attune server — spaces created and closed, steward changes, and later
      policies and decisions — is appended to a public, append-only Merkle tree. This page checks it here, in your
      browser. For a full audit use <code>attune audit ${location.origin} --key …</code>.</p>
    <form class="card" onSubmit=${(e: Event) => {
      e.preventDefault();
      localStorage.setItem(KEY_STORE, draft.trim());
      setKey(draft.trim());
    }}>
      <label for="vkey">Pinned verifier key</label>
      <div class="row">
        <input id="vkey" value=${draft} placeholder="origin+1234abcd+AbCd…" onInput=${(e: Event) => setDraft((e.target as HTMLInputElement).value)} style="flex:1" />
        <button type="submit">Verify</button>
      </div>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${cp &&
    html`<section class="card" aria-live="polite">
      <div><strong>${cp.checkpoint.origin}</strong></div>
      <div>${cp.checkpoint.size} entries · root <code title=${encodeBase64(cp.checkpoint.root)}>${encodeBase64(cp.checkpoint.root).slice(0, 16)}…</code></div>
      <div>
        ${sig?.state === 'verified' && html`<span style="color:var(--ok)">✓ signature verified (${sig.by})</span>`}
        ${sig?.state === 'unchecked' && html`<span class="muted">signature not checked: pin the log's verifier key above</span>`}
        ${sig?.state === 'invalid' && html`<span class="error">✗ signature: ${sig.reason}</span>`}
      </div>
      <div class="muted">${busy ? 'verifying…' : `${included} of ${rows.length} entries shown verified as included`}</div>
    </section>`}
    <table style="width:100%;border-collapse:collapse">
      <thead><tr><th align="left">#</th><th align="left">act</th><th align="left">when</th><th align="left">included</th></tr></thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr style="border-top:1px solid #2a2e38">
            <td>${r.index}</td>
            <td><div>${r.entry?.type ?? '(not an attune entry)'}</div><div class="muted" style="font-size:0.8rem">${r.entry?.space ?? ''}</div></td>
            <td class="muted">${r.entry ? new Date(r.entry.time).toISOString().replace('T', ' ').slice(0, 19) : ''}</td>
            <td>${r.status.included ? html`<span style="color:var(--ok)" title="inclusion proof verified">✓</span>` : html`<span class="error" title=${r.status.reason}>✗ ${r.status.reason}</span>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <div class="row" style="margin-top:12px">
      <button class="secondary" disabled=${start === 0} onClick=${() => setStart(Math.max(0, start - PAGE))}>Newer</button>
      <button class="secondary" disabled=${!cp || start + PAGE >= cp.checkpoint.size} onClick=${() => setStart(start + PAGE)}>Older</button>
    </div>
  `;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
