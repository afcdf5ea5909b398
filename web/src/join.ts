/**
 * The participant page: consent, then the grid. A tap (or arrow keys + Enter, or a sentence)
 * sets how the person feels now; their own point stays visible against the crowd.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Pulse } from './lib/affect.ts';
import { QUADRANT_STYLE } from './lib/affect.ts';
import { Grid } from './lib/grid.ts';
import { GroupPicker } from './lib/groups.ts';
import { HeartPanel } from './lib/heartPanel.ts';
import { StoryPanel } from './lib/storyPanel.ts';
import { sessionKeys } from '../../src/client/attuneClient.ts';
import { CONSENT_TEXT } from '../../src/core/consent.ts';
import { codeFromPath, forgetConsent, forgetSession, type InputPayload, useSpaceSocket, hasConsented, recordConsent, type Status } from './lib/socket.ts';
import { api, html, render } from './lib/ui.ts';
import { DisplayOverrideNote, displayFieldOf, FeedbackBanner, feedbackFieldOf } from './lib/feedback.ts';
import { axisWordsOf, calmShown, crowdShown, quadrantLabel, ScreenSmoother, smoothedForScreen, smoothingOf } from './lib/screen.ts';

interface SpaceInfo {
  code: string;
  name: string;
  status: 'open' | 'closed';
  ttlMs: number;
  present: number;
  groups?: string[];
}

type You = { valence: number; arousal: number; confidence: number; source: string };

function Consent({ space, onYes }: { space: SpaceInfo; onYes: (group: string | null) => void }) {
  const minutes = Math.round(space.ttlMs / 60_000);
  const [group, setGroup] = useState<string | null>(null);
  const groups = space.groups ?? [];
  return html`
    <h1>${space.name}</h1>
    <p>You're invited to share how you feel, together with everyone here.</p>
    <div class="card" data-testid="consent">
      <h2>What is collected</h2>
      <p>${CONSENT_TEXT.collected}</p>
      <h2>What others see</h2>
      <p>${CONSENT_TEXT.seen}</p>
      ${
        groups.length
          ? html`<h2>Groups</h2>
            <p data-testid="consent-groups">(${groups.join(', ')}) ${CONSENT_TEXT.groups}</p>
            <${GroupPicker} groups=${groups} value=${group} onChange=${setGroup} />`
          : null
      }
      <h2>Councils may change what the screen shows</h2>
      <p data-testid="consent-council">This space may have a council: people responsible for the room who can, through rules they adopted in the open, change what screens show for a few minutes — for example a calmer screen when the room is racing. They see only the whole room, never you. Whenever that happens your screen says so, which rule did it and why, with a link to the public record. You can refuse it at any time with <strong>“Keep showing me the room as it is”</strong>; it never changes what your own taps record.</p>
      <h2>How long it is kept</h2>
      <p>${CONSENT_TEXT.kept.replace('{minutes}', minutes >= 1 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${Math.round(space.ttlMs / 1000)} seconds`)}</p>
    </div>
    <div class="row">
      <button onClick=${() => onYes(group)} data-testid="consent-yes">I agree — let me in</button>
      <a href="/" class="muted">No thanks</a>
    </div>
  `;
}

function Room({ space, group: chosen, consentVersion, onConsentChanged }: { space: SpaceInfo; group: string | null; consentVersion: string; onConsentChanged: () => void }) {
  const [status, setStatus] = useState<Status>('connecting');
  const [group, setGroup] = useState<string | null>(chosen);
  const [pulse, setPulse] = useState<Pulse | null>(null);
  const [you, setYou] = useState<You | null>(null);
  const [saving, setSaving] = useState(false);
  const [note, setNote] = useState<string>('');
  const [ended, setEnded] = useState<string | null>(null);
  const [text, setText] = useState('');
  // The person's own last valence (tap or words): a heart strap sets the energy, never this.
  const [said, setSaid] = useState<{ valence: number; at: number } | null>(null);
  const [heartAcks, setHeartAcks] = useState(0);
  // Bumped when the server tells this participant one of their stories changed (ST12).
  const [storyBump, setStoryBump] = useState(0);
  // Kept in memory after a leave (which forgets the session), so stories can still be withdrawn.
  const [storyToken, setStoryToken] = useState<string | null>(null);

  const [optedOut, setOptedOut] = useState(() => localStorage.getItem(`attune:${space.code}:optout`) === 'yes');
  // A council's smoothing (Q5) is applied pulse by pulse, in order, whatever the render rate.
  const smoother = useRef(new ScreenSmoother());
  const optedOutNow = useRef(optedOut);
  optedOutNow.current = optedOut;
  // After the (long) consent screen, the room starts at its top: the grid is the first thing seen.
  useEffect(() => window.scrollTo(0, 0), []);
  // The space's template may allow only some inputs and name the grid's corners (Q14).
  const [settings, setSettings] = useState<{ inputs: { tap: boolean; text: boolean; heart: boolean }; words: Record<string, string> | null } | null>(null);
  useEffect(() => {
    api<{ settings: typeof settings }>(`/api/spaces/${space.code}/council`).then((v) => setSettings(v.settings ?? null), () => {});
  }, [space.code]);
  const socket = useSpaceSocket(space.code, 'participant', {
    onStatus: (s) => setStatus(s),
    onWelcome: (m) => {
      if (m.group !== undefined) setGroup(m.group);
      if (m.you) setYou(m.you);
      if (m.you) setSaid({ valence: m.you.valence, at: m.you.at });
    },
    onPulse: (p) => setPulse(smoothedForScreen(smoother.current, p, smoothingOf(displayFieldOf(p), optedOutNow.current))),
    onAck: (m) => {
      if (m.affect.source === 'heart') {
        setYou(m.affect);
        setHeartAcks((n) => n + 1);
        return;
      }
      if (m.affect.source === 'text') setSaid({ valence: m.affect.valence, at: Date.now() });
      setSaving(false);
      setYou(m.affect);
      setNote(m.affect.source === 'text' ? `Heard you — confidence ${(m.affect.confidence * 100).toFixed(0)}%.` : 'Saved.');
    },
    onError: (m) => {
      // W5b: the client keeps the input and sends it again after a back-off; still saving.
      if (m.code === 'OVERLOADED') {
        setNote('Busy — sending it again in a moment…');
        return;
      }
      setSaving(false);
      setNote(m.message);
    },
    onEnd: (r, msg) => {
      // V1: the server's consent text is newer than the one agreed to here: show it again.
      if (r === 'CONSENT_CHANGED') onConsentChanged();
      else setEnded(msg);
    },
    onStory: () => setStoryBump((n) => n + 1),
  }, chosen, consentVersion);

  const pick = (valence: number, arousal: number) => {
    setYou({ valence, arousal, confidence: 1, source: 'tap' });
    setSaid({ valence, at: Date.now() });
    setSaving(true);
    setNote('');
    socket.sendInput({ valence, arousal });
  };

  // An opt-out is told again on every (re)connection: a restarted server counts afresh (Q12).
  useEffect(() => {
    const token = socket.client.token;
    if (status === 'live' && optedOut && token) void fetch(`/api/spaces/${space.code}/feedback/opt-out`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ optOut: true }) }).catch(() => {});
  }, [status]);
  if (ended) {
    // The author can still withdraw their stories after leaving or after the space closed (ST11).
    return html`<h1>${space.name}</h1><div class="card" data-testid="ended"><p>${ended}</p></div><${StoryPanel} code=${space.code} token=${storyToken ?? localStorage.getItem(sessionKeys(space.code).token)} bump=${storyBump} /><p><a href="/">attune</a></p>`;
  }

  const feedback = feedbackFieldOf(pulse);
  const calm = calmShown(feedback, optedOut);
  // A council may hide the crowd on participants' screens for a while; their own point stays (Q5).
  const crowd = crowdShown(displayFieldOf(pulse), optedOut);
  const shares = crowd ? pulse?.quadrants : undefined;
  if (typeof document !== 'undefined') document.body.classList.toggle('calm', calm);
  const setOptOut = (value: boolean) => {
    setOptedOut(value);
    localStorage.setItem(`attune:${space.code}:optout`, value ? 'yes' : 'no');
    const token = socket.client.token;
    // The council sees only the count (under the cohort rule); the choice also lives on this device.
    if (token) void fetch(`/api/spaces/${space.code}/feedback/opt-out`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ optOut: value }) }).catch(() => {});
  };
  return html`
    <div class="row" style="justify-content: space-between">
      <h1>${space.name}</h1>
      <span class=${`status ${status}`} data-testid="status">${status === 'live' ? 'connected' : status}</span>
    </div>
    <p class="muted" data-testid="present">
      ${pulse ? `${pulse.count} ${pulse.count === 1 ? 'person' : 'people'} here` : '…'}
      ${pulse?.suppressed ? ` — the room's shape appears once ${pulse.minCohort} people have shared` : ''}
    </p>
    <${FeedbackBanner} pulse=${pulse} optedOut=${optedOut} camps=${crowd ? (pulse?.collective?.camps ?? []) : []} />
    <${DisplayOverrideNote} pulse=${pulse} optedOut=${optedOut} participant=${true} />
    <${Grid} pulse=${pulse} you=${you} onPick=${pick} label="How do you feel right now?" crowd=${crowd} words=${axisWordsOf(settings)} calm=${calm} />
    ${
      feedback || displayFieldOf(pulse)?.by === 'policy'
        ? html`<label class="row" style="font-weight:400"><input type="checkbox" style="width:auto" checked=${optedOut} data-testid="optout" onChange=${(e: Event) => setOptOut((e.target as HTMLInputElement).checked)} /> Keep showing me the room as it is (opt out of adaptive feedback)</label>`
        : null
    }
    <p class="status" aria-live="polite" data-testid="note">${saving ? 'Saving…' : note || (you ? '' : 'Tap where you are right now.')}</p>
    ${
      shares
        ? html`<p class="muted" aria-label="How the room feels">
            ${QUADRANT_STYLE.map((q, i) => html`<span style=${`color:${q.colour};margin-right:12px`}>${quadrantLabel(q.key, axisWordsOf(settings))} ${Math.round((shares[i] ?? 0) * 100)}%</span>`)}
          </p>`
        : null
    }
    ${settings && !settings.inputs.text ? null : html`<form
      class="card"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        const t = text.trim();
        if (!t) return;
        setSaving(true);
        socket.sendInput({ text: t.slice(0, 500) });
        setText('');
      }}
    >
      <label for="words">Or say it in words</label>
      <div class="row" style="flex-wrap: nowrap">
        <input id="words" maxlength="500" value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} placeholder="e.g. a bit nervous but excited" />
        <button type="submit" class="secondary">Send</button>
      </div>
      <p class="muted" style="margin-bottom:0">Your words are read by the server, turned into a point, and discarded.</p>
    </form>`}
    <${StoryPanel} code=${space.code} token=${status === 'live' ? socket.client.token : null} bump=${storyBump} />
    ${
      space.groups?.length
        ? html`<${GroupPicker}
            groups=${space.groups}
            value=${group}
            onChange=${(g: string | null) => {
              setGroup(g);
              socket.client.setGroup(g);
            }}
          />`
        : null
    }
    ${settings && !settings.inputs.heart ? null : html`<${HeartPanel} send=${(input: InputPayload) => socket.sendInput(input)} said=${said} acked=${heartAcks} />`}
    <button
      class="secondary"
      onClick=${() => {
        setStoryToken(socket.client.token);
        socket.leave();
        setEnded('You left. Your point was removed from the room. Stories you shared stay until you withdraw them.');
      }}
      data-testid="leave"
    >Leave and remove my point</button>
    <${YourData} code=${space.code} onErased=${() => {
      socket.stop();
      forgetSession(space.code);
      setEnded('Everything stored about you here was erased. Your point left the room.');
    }} />
  `;
}

/** Export and erasure (V2): everything stored about this person, downloaded or erased, with their session key. */
function YourData({ code, onErased }: { code: string; onErased: () => void }) {
  const [sure, setSure] = useState(false);
  const [note, setNote] = useState('');
  const token = () => localStorage.getItem(sessionKeys(code).token);
  const download = async (format: 'json' | 'emotionml') => {
    const t = token();
    if (!t) return setNote('Tap first: nothing is stored about you yet.');
    const r = await fetch(`/api/me/export?format=${format}`, { headers: { authorization: `Bearer ${t}` } });
    if (!r.ok) return setNote('Could not download your data now.');
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = format === 'json' ? 'attune-my-data.json' : 'attune-my-data.emotionml';
    a.click();
  };
  const erase = async () => {
    const t = token();
    if (!t) return onErased();
    const r = await fetch('/api/me/erase', { method: 'POST', headers: { authorization: `Bearer ${t}` } });
    if (r.ok || r.status === 404) onErased();
    else setNote('Could not erase now; try again.');
  };
  return html`<details class="card" data-testid="your-data">
    <summary>Your data</summary>
    <p class="muted">Everything this server stores about you here: your inputs, your latest point, your consent.</p>
    <div class="row">
      <button class="secondary" data-testid="export-json" onClick=${() => download('json')}>Download (JSON)</button>
      <button class="secondary" data-testid="export-emotionml" onClick=${() => download('emotionml')}>Download (EmotionML)</button>
    </div>
    ${sure ? html`<p>This deletes your inputs, your point and your session for good. Aggregates already shown to the room stay, as they never described you alone.</p><div class="row"><button class="danger" data-testid="erase-confirm" onClick=${erase}>Yes, erase everything</button><button class="secondary" onClick=${() => setSure(false)}>Keep it</button></div>` : html`<button class="danger" data-testid="erase" onClick=${() => setSure(true)}>Erase everything about me</button>`}
    ${note ? html`<p class="status">${note}</p>` : null}
  </details>`;
}

function App() {
  const code = codeFromPath();
  const [space, setSpace] = useState<SpaceInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  // V1: the consent screen shows again whenever the consent text's version changed since this device agreed.
  const [version, setVersion] = useState<string | null>(null);
  const [consented, setConsented] = useState(false);
  const [group, setGroup] = useState<string | null>(null);
  // Bumped when the server refuses this device's consent as outdated (CONSENT_CHANGED): read the text again.
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    api<SpaceInfo>(`/api/spaces/${code}`).then(setSpace, (e: Error) => setError(e.message));
    api<{ version: string }>('/api/consent').then(
      (c) => {
        setVersion(c.version);
        setConsented(hasConsented(code, c.version));
      },
      (e: Error) => setError(e.message),
    );
    // `asked` changes only to re-read the consent text after a CONSENT_CHANGED.
    void asked;
  }, [code, asked]);
  if (error) return html`<h1>attune</h1><p class="error" data-testid="error">${error === 'no space has that join code' ? `No space has the code ${code}. Check the code and try again.` : error}</p>`;
  if (!space || !version) return html`<p class="muted">Loading…</p>`;
  if (space.status === 'closed') return html`<h1>${space.name}</h1><p data-testid="ended">This space has closed. Thank you.</p><${StoryPanel} code=${space.code} token=${localStorage.getItem(sessionKeys(code).token)} bump=${0} />`;
  if (!consented)
    return html`<${Consent}
      space=${space}
      onYes=${(g: string | null) => {
        recordConsent(code, version);
        // The room opens at its top (the consent screen was read down to its button).
        window.scrollTo(0, 0);
        // A person coming back to a changed text agrees again: recorded on the server too.
        const token = localStorage.getItem(sessionKeys(code).token);
        if (token) fetch('/api/me/consent', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ version }) }).catch(() => {});
        setGroup(g);
        setConsented(true);
      }}
    />`;
  return html`<${Room}
    space=${space}
    group=${group}
    consentVersion=${version}
    onConsentChanged=${() => {
      forgetConsent(code);
      setConsented(false);
      setVersion(null);
      setAsked((n) => n + 1);
    }}
  />`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
