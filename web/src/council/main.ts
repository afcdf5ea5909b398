/**
 * The council page `/c/CODE` (SPEC §Q): the steward creates the council and invites members by
 * link; members write policies, check them (coded errors with their position), dry-run them over
 * the session so far (with a chart of the figures they read), propose and vote; anyone sees the
 * rules, proposals, votes, active policies, the feedback in force and the opt-out count. Every
 * step goes to the public log before it takes effect.
 */
import { useEffect, useState } from 'preact/hooks';
import { codeFromPath } from '../lib/socket.ts';
import { Notifications } from '../lib/notifications.ts';
import { html, render } from '../lib/ui.ts';

interface CouncilView {
  council: { id: string; rules: { quorum: 'majority' | number; proposalSeconds: number; prompts: string[] }; needed: number } | null;
  members: { id: string; name: string }[];
  proposals: { id: string; kind: string; by: string; status: string; expiresAt: number; yes: number; no: number; votes: Record<string, string>; policy?: { name: string; when: string } }[];
  policies: { id: string; version: number; status: string; name: string; when: string; then: unknown; reason: string; fired: number; lastFiredAt: number | null; cooldownSeconds: number }[];
  feedback: { mode: string; policy: { name: string } | null; reason: string; entry: number | null };
  display: { mode: string; by: string };
  /** How many notifications policies sent (read them with a token: Notifications). */
  notifications: number;
  optOuts: number | null;
}

interface DryRun {
  evaluated: number;
  fires: { at: number }[];
  errors: number;
  series: Record<string, [number, number][]>;
}

const EXAMPLE = JSON.stringify(
  // biome-ignore lint/suspicious/noThenProperty: the policy format's action field (SPEC Q3).
  { name: 'calm when racing', when: 'pulse.mean.arousal > 0.4', then: { feedback: { mode: 'calm', minutes: 5, breathsPerMinute: 6 } }, cooldownSeconds: 300, reason: 'the room is racing; a slower screen for five minutes' },
  null,
  2,
);

function fromHash(code: string, key: 'member' | 'token'): string | null {
  const m = new RegExp(`${key}=([A-Za-z0-9_-]+)`).exec(location.hash);
  const store = key === 'member' ? `attune:${code}:member` : `attune:${code}:steward`;
  if (m?.[1]) {
    localStorage.setItem(store, m[1]);
    history.replaceState(null, '', location.pathname); // keep tokens off screens and history
  }
  return localStorage.getItem(store);
}

async function call<T>(method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const r = await fetch(path, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const j = (await r.json().catch(() => ({}))) as { error?: { code: string; message: string; position?: { start: number; end: number } } };
  if (!r.ok) throw Object.assign(new Error(j.error?.message ?? `HTTP ${r.status}`), { code: j.error?.code ?? 'HTTP', position: j.error?.position });
  return j as T;
}

/** A small line chart of one series with the moments the policy would have fired. */
function Chart({ name, points, fires }: { name: string; points: [number, number][]; fires: { at: number }[] }) {
  if (points.length < 2) return null;
  const t0 = (points[0] as [number, number])[0];
  const t1 = (points[points.length - 1] as [number, number])[0];
  const lo = Math.min(...points.map((p) => p[1]));
  let hi = Math.max(...points.map((p) => p[1]));
  if (hi - lo < 1e-9) hi = lo + 1;
  const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * 600;
  const y = (v: number) => 110 - ((v - lo) / (hi - lo)) * 100;
  return html`<figure style="margin:8px 0">
    <figcaption class="muted">${name} <span>(${lo.toFixed(2)} … ${hi.toFixed(2)})</span></figcaption>
    <svg class="chart" viewBox="0 0 600 120" preserveAspectRatio="none" data-testid="dry-chart" role="img" aria-label=${`${name} over the session, with ${fires.length} firings marked`}>
      <polyline points=${points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')} />
      ${fires.map((f) => html`<line class="fire" x1=${x(f.at)} x2=${x(f.at)} y1="0" y2="120" />`)}
    </svg>
  </figure>`;
}

function PolicyEditor({ code, member, steward, onDone }: { code: string; member: string | null; steward: string | null; onDone: () => void }) {
  const [text, setText] = useState(EXAMPLE);
  const [message, setMessage] = useState<string | null>(null);
  const [caret, setCaret] = useState<string | null>(null);
  const [dry, setDry] = useState<DryRun | null>(null);
  const parse = (): unknown => {
    try {
      return JSON.parse(text);
    } catch (e) {
      setMessage(`not JSON: ${(e as Error).message}`);
      return undefined;
    }
  };
  const fail = (e: Error & { code?: string; position?: { start: number; end: number } }, policy: unknown) => {
    setMessage(`${e.code}: ${e.message}`);
    const when = (policy as { when?: unknown }).when;
    setCaret(typeof when === 'string' && e.position ? `${when}\n${' '.repeat(e.position.start)}${'^'.repeat(Math.max(1, Math.min(when.length, e.position.end) - e.position.start))}` : null);
  };
  const run = async (what: 'check' | 'test' | 'propose') => {
    setMessage(null);
    setCaret(null);
    const policy = parse();
    if (policy === undefined) return;
    try {
      if (what === 'check') {
        await call('POST', `/api/spaces/${code}/policies/check`, null, { policy });
        setMessage('ok: the policy checks against the schema and bounds');
      } else if (what === 'test') {
        setDry(await call<DryRun>('POST', `/api/spaces/${code}/policies/test`, member ?? steward, { policy }));
      } else {
        const r = await call<{ proposal: string }>('POST', `/api/spaces/${code}/council/proposals`, member, { policy });
        setMessage(`proposed (${r.proposal}); logged publicly — now the council votes`);
        onDone();
      }
    } catch (e) {
      fail(e as Error, policy);
    }
  };
  return html`<section class="card">
    <h2>Write a policy</h2>
    <p class="muted">A CEL expression over the released pulse (never an individual) and one bounded action. See docs/councils.md.</p>
    <textarea class="policy" data-testid="policy-json" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)} aria-label="policy JSON"></textarea>
    <div class="row">
      <button class="secondary" data-testid="policy-check" onClick=${() => run('check')}>Check</button>
      <button class="secondary" data-testid="policy-test" onClick=${() => run('test')} disabled=${!member && !steward}>Dry run on this session</button>
      <button data-testid="policy-propose" onClick=${() => run('propose')} disabled=${!member}>Propose</button>
    </div>
    ${message ? html`<p role="status" data-testid="policy-message">${message}</p>` : null}
    ${caret ? html`<div class="caret" data-testid="policy-caret">${caret}</div>` : null}
    ${
      dry
        ? html`<div data-testid="dry-run">
            <p>${dry.evaluated} released pulses evaluated: ${dry.fires.length === 0 ? 'it would never have fired' : `it would have fired ${dry.fires.length}× (${dry.fires.map((f) => new Date(f.at).toLocaleTimeString()).join(', ')})`}${dry.errors ? ` · ${dry.errors} evaluation errors` : ''}</p>
            ${Object.entries(dry.series).map(([k, pts]) => html`<${Chart} name=${k} points=${pts} fires=${dry.fires} />`)}
          </div>`
        : null
    }
  </section>`;
}

function App() {
  const code = codeFromPath();
  const [member] = useState(() => fromHash(code, 'member'));
  const [steward] = useState(() => fromHash(code, 'token'));
  const [me, setMe] = useState<{ member: string; name: string } | null>(null);
  const [view, setView] = useState<CouncilView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [invite, setInvite] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [quorum, setQuorum] = useState('majority');
  const [bump, setBump] = useState(0);
  const refresh = () => setBump((n) => n + 1);
  useEffect(() => {
    let live = true;
    const load = () => call<CouncilView>('GET', `/api/spaces/${code}/council`, null).then((v) => live && setView(v), (e: Error) => live && setError(e.message));
    void load();
    const t = setInterval(load, 2000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [code, bump]);
  useEffect(() => {
    if (member) call<{ member: string; name: string }>('GET', `/api/spaces/${code}/council/me`, member).then(setMe, () => setMe(null));
  }, [member, bump]);
  const act = (p: Promise<unknown>) => p.then(refresh, (e: Error) => setError(e.message));
  if (!view) return html`<h1>Council</h1><p class="muted">${error ?? 'Loading…'}</p>`;
  const c = view.council;
  return html`
    <h1>Council of <code>${code}</code></h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <p class="muted">${me ? html`You are <strong data-testid="me">${me.name}</strong>, a council member.` : steward ? 'You are the steward.' : 'Anyone may read this page; members act with the link they were given.'} Every act here is on the <a href="/audit">public log</a> before it takes effect.</p>
    ${
      !c
        ? steward
          ? html`<section class="card"><h2>Create the council</h2>
              <label for="quorum">Quorum</label>
              <input id="quorum" value=${quorum} onInput=${(e: Event) => setQuorum((e.target as HTMLInputElement).value)} data-testid="council-quorum" />
              <p class="muted">"majority" (more than half of the members) or a number of yes votes.</p>
              <button data-testid="council-create" onClick=${() => act(call('POST', `/api/spaces/${code}/council`, steward, { rules: { quorum: /^\d+$/.test(quorum) ? Number(quorum) : quorum } }))}>Create council</button>
            </section>`
          : html`<p data-testid="no-council">This space has no council.</p>`
        : html`<section class="card">
            <div>Quorum: <strong>${c.rules.quorum}</strong> (${c.needed} yes vote${c.needed === 1 ? '' : 's'} adopt) · proposals stay open ${Math.round(c.rules.proposalSeconds / 60)} min</div>
            <div>Members: <span data-testid="members">${view.members.map((m) => m.name).join(', ') || 'none yet'}</span></div>
            <div data-testid="council-feedback">Now: <strong>${view.feedback.mode}</strong>${view.feedback.policy ? ` — policy “${view.feedback.policy.name}”: ${view.feedback.reason}` : ''}${view.feedback.entry !== null ? html` · <a href=${`/audit#entry-${view.feedback.entry}`}>log entry ${view.feedback.entry}</a>` : null} · display: ${view.display.mode}</div>
            <div class="muted" data-testid="optouts">Opted out of adaptive feedback: ${view.optOuts ?? 'fewer than the minimum cohort (not shown)'}</div>
          </section>`
    }
    ${
      c && steward
        ? html`<section class="card"><h2>Invite a member</h2>
            <div class="row" style="flex-wrap:nowrap"><input placeholder="their name (public on the log)" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} data-testid="invite-name" />
            <button class="secondary" data-testid="invite" onClick=${() => act(call<{ inviteUrl: string }>('POST', `/api/spaces/${code}/council/members`, steward, { name }).then((r) => { setInvite(r.inviteUrl); setName(''); }))}>Invite</button></div>
            ${invite ? html`<p>Give this link only to them (shown once): <input readonly value=${invite} data-testid="invite-link" /></p>` : null}
            <table class="list"><tbody>${view.members.map((m) => html`<tr><td>${m.name}</td><td><button class="secondary" onClick=${() => act(call('DELETE', `/api/spaces/${code}/council/members/${m.id}`, steward))}>Remove</button></td></tr>`)}</tbody></table>
          </section>`
        : null
    }
    ${c ? html`<${PolicyEditor} code=${code} member=${me ? member : null} steward=${steward} onDone=${refresh} />` : null}
    ${
      c
        ? html`<section class="card"><h2>Proposals</h2>
            ${view.proposals.length === 0 ? html`<p class="muted">none</p>` : null}
            <table class="list"><tbody>
              ${[...view.proposals].reverse().map(
                (p) => html`<tr data-testid="proposal">
                  <td><div><strong>${p.policy?.name ?? `new rules`}</strong> <span class=${`pill ${p.status}`} data-testid="proposal-status">${p.status}</span></div><div class="muted"><code>${p.policy?.when ?? ''}</code></div></td>
                  <td>yes ${p.yes} · no ${p.no}</td>
                  <td>${
                    me && p.status === 'open' && p.votes[me.member] === undefined
                      ? html`<div class="row"><button data-testid="vote-yes" onClick=${() => act(call('POST', `/api/spaces/${code}/council/proposals/${p.id}/votes`, member, { vote: 'yes' }))}>Yes</button><button class="secondary" onClick=${() => act(call('POST', `/api/spaces/${code}/council/proposals/${p.id}/votes`, member, { vote: 'no' }))}>No</button></div>`
                      : p.votes[me?.member ?? ''] ? html`<span class="muted">you voted ${p.votes[me?.member ?? '']}</span>` : null
                  }</td>
                </tr>`,
              )}
            </tbody></table>
          </section>
          <section class="card"><h2>Policies</h2>
            ${view.policies.length === 0 ? html`<p class="muted">none adopted</p>` : null}
            <table class="list"><tbody>
              ${view.policies.map(
                (p) => html`<tr data-testid="policy-row">
                  <td><div><strong>${p.name}</strong> v${p.version} <span class=${`pill ${p.status}`}>${p.status}</span></div><div class="muted"><code>${p.when}</code> → <code>${JSON.stringify(p.then)}</code></div><div class="muted">${p.reason} · fired ${p.fired}× · cooldown ${p.cooldownSeconds} s</div></td>
                  <td>${p.status === 'active' && (me || steward) ? html`<button class="secondary" onClick=${() => act(call('POST', `/api/spaces/${code}/policies/${p.id}/retire`, steward ?? member, {}))}>Retire</button>` : null}</td>
                </tr>`,
              )}
            </tbody></table>
          </section>
          <${Notifications} code=${code} token=${me ? member : steward} />`
        : null
    }
  `;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
