/**
 * The public audit page: the log's checkpoint and its entries, each with its inclusion status
 * verified here in the browser (WebCrypto SHA-256 and Ed25519, the core's RFC 9162 verifier).
 * Pin the log's verifier key (`attune log key`) with `?key=…` or the form; it is remembered. A
 * link never silently replaces a pinned key: the page asks, and says when the key changed
 * (keyPin.ts).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { encodeBase64 } from '../../../src/core/note/base64.ts';
import { html, render } from '../lib/ui.ts';
import { decidePin, loadPin, needsConfirmation, type PinState, replacePin, savePin } from './keyPin.ts';
import { type CheckedCheckpoint, checkEntries, type EntryRow, fetchCheckpoint } from './verifyLog.ts';
import { webCryptoHasher, webNoteVerifier } from './webCrypto.ts';

const PAGE = 50;

const opened = decidePin(loadPin(localStorage), new URLSearchParams(location.search).get('key'));
savePin(localStorage, opened.state);

const short = (k: string) => (k.length > 48 ? `${k.slice(0, 44)}…` : k);

function App() {
  const [pin, setPinState] = useState<PinState>(opened.state);
  const [key, setKey] = useState(opened.verifyWith);
  const [draft, setDraft] = useState(opened.verifyWith);
  const [offered, setOffered] = useState<string | null>(opened.offered);
  const [confirming, setConfirming] = useState<string | null>(null);
  const pinned = (next: PinState) => {
    savePin(localStorage, next);
    setPinState(next);
    setKey(next.key ?? '');
    setDraft(next.key ?? '');
  };
  const [cp, setCp] = useState<CheckedCheckpoint | null>(null);
  const [rows, setRows] = useState<EntryRow[]>([]);
  const [start, setStart] = useState(0);
  const jumped = useRef(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setBusy(true);
    setError(null);
    (async () => {
      const verifier = key ? await webNoteVerifier(key) : null;
      const checked = await fetchCheckpoint(fetch, '', verifier);
      // `#entry-N` (links from participants' and displays' screens, SPEC Q8): show the page holding N.
      const target = /^#entry-(\d+)$/.exec(location.hash);
      const want = target ? Math.max(0, checked.checkpoint.size - 1 - Number(target[1])) : null;
      if (want !== null && !jumped.current && want !== start && want < checked.checkpoint.size) {
        jumped.current = true;
        if (!cancelled) setStart(want);
        return;
      }
      jumped.current = true;
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
    ${offered &&
    html`<section class="card warn" role="alert" id="key-offer">
      <p><strong>This link carries a different verifier key from the one you pinned.</strong> The page still checks the
        log with your pinned key. Replace it only if the log's operator told you, by a channel you trust, that the key
        changed — a new key can also mean the log was replaced.</p>
      <p>Pinned: <code>${short(pin.key ?? '')}</code><br />In the link: <code>${short(offered)}</code></p>
      <div class="row">
        <button id="key-offer-keep" class="secondary" onClick=${() => setOffered(null)}>Keep my pinned key</button>
        <button id="key-offer-use" onClick=${() => {
          pinned(replacePin(pin, offered, Date.now()));
          setOffered(null);
        }}>Pin the link's key instead</button>
      </div>
    </section>`}
    ${opened.pinnedFromLink && !pin.changed && html`<p class="muted" id="key-first">Pinned the verifier key from the link; later links with another key will ask first.</p>`}
    ${pin.changed &&
    html`<section class="card" role="status" id="key-changed">
      <p><strong>The pinned verifier key changed</strong> on ${new Date(pin.changed.at).toISOString().replace('T', ' ').slice(0, 19)} UTC
        — from <code>${short(pin.changed.from)}</code> to <code>${short(pin.changed.to)}</code>.</p>
      <button class="secondary" onClick=${() => pinned({ ...pin, changed: null })}>Dismiss</button>
    </section>`}
    <form class="card" onSubmit=${(e: Event) => {
      e.preventDefault();
      if (needsConfirmation(pin, draft)) setConfirming(draft.trim());
      else if (draft.trim()) pinned(replacePin(pin, draft, Date.now()));
    }}>
      <label for="vkey">Pinned verifier key</label>
      <div class="row">
        <input id="vkey" class="grow" value=${draft} placeholder="origin+1234abcd+AbCd…" onInput=${(e: Event) => setDraft((e.target as HTMLInputElement).value)} />
        <button type="submit">Verify</button>
      </div>
      ${confirming &&
      html`<div class="row" id="key-confirm" role="alert">
        <span>Replace the pinned key <code>${short(pin.key ?? '')}</code>?</span>
        <button type="button" id="key-confirm-yes" onClick=${() => {
          pinned(replacePin(pin, confirming, Date.now()));
          setConfirming(null);
        }}>Replace</button>
        <button type="button" class="secondary" onClick=${() => {
          setConfirming(null);
          setDraft(pin.key ?? '');
        }}>Cancel</button>
      </div>`}
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
          (r) => html`<tr style="border-top:1px solid #2a2e38" id=${`entry-${r.index}`} class=${location.hash === `#entry-${r.index}` ? 'target' : ''} data-testid="audit-row">
            <td>${r.index}</td>
            <td><div data-testid="audit-type">${r.entry?.type ?? '(not an attune entry)'}</div><div class="muted" style="font-size:0.8rem">${r.entry?.space ?? ''}</div></td>
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
