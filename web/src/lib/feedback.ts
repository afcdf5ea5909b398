/**
 * What a council's policies set, as participants and displays see it (SPEC Q8): the mode in
 * force in plain words, the policy that set it, its reason, and a link to its public log entry —
 * nothing changes silently. Calm adds an optional breathing guide; reflect shows the approved
 * prompt; diversity shows the room's camps side by side with their shares. A participant who
 * opted out sees the room as it is (mirror), and is still told what the council set.
 */
import { html } from './ui.ts';

/** The `feedback` field of a pulse (Q8). */
export interface FeedbackField {
  readonly mode: 'mirror' | 'calm' | 'diversity' | 'reflect';
  readonly policy: { readonly id: string; readonly version: number; readonly name: string } | null;
  readonly reason: string;
  readonly until: number | null;
  readonly entry: number | null;
  readonly breathsPerMinute?: number;
  readonly prompt?: string;
}

/** The `display` field of a pulse (Q8, Q9). */
export interface DisplayField {
  readonly mode: string;
  readonly by: string;
  readonly entry: number | null;
  readonly paused: boolean;
  readonly showCrowd: boolean;
  readonly smoothingSeconds: number | null;
  readonly until: number | null;
  readonly policy: { readonly id: string; readonly version: number; readonly name: string } | null;
  readonly reason: string | null;
}

const MODE_WORDS: Record<FeedbackField['mode'], string> = {
  mirror: 'Mirror — the room as it is',
  calm: 'Calm — a slower, cooler screen',
  diversity: 'Diversity — every camp side by side',
  reflect: 'Reflect — a question to sit with',
};

/** The pulse's feedback field when well formed, else null. */
export function feedbackFieldOf(pulse: unknown): FeedbackField | null {
  const f = (pulse as { feedback?: FeedbackField } | null)?.feedback;
  return f && typeof f.mode === 'string' && f.mode in MODE_WORDS ? f : null;
}

/** The pulse's display field when well formed, else null. */
export function displayFieldOf(pulse: unknown): DisplayField | null {
  const d = (pulse as { display?: DisplayField } | null)?.display;
  return d && typeof d.mode === 'string' ? d : null;
}

/** The mode participants' own screens use: mirror once they opted out (Q8). */
export function shownMode(f: FeedbackField | null, optedOut: boolean): FeedbackField['mode'] {
  return !f || optedOut ? 'mirror' : f.mode;
}

const minutesLeft = (until: number | null) => (until === null ? null : Math.max(0, Math.ceil((until - Date.now()) / 60_000)));

/** The banner: mode, policy, reason, log link; the breathing guide, prompt or camps when they apply. */
export function FeedbackBanner({ pulse, optedOut = false, camps }: { pulse: unknown; optedOut?: boolean; camps?: readonly { readonly id: string; readonly share: number }[] }) {
  const f = feedbackFieldOf(pulse);
  if (!f) return null;
  const mode = shownMode(f, optedOut);
  const left = minutesLeft(f.until);
  const period = f.breathsPerMinute ? 60 / f.breathsPerMinute : null;
  return html`<section class=${`card feedback feedback-${mode}`} data-testid="feedback-banner" data-mode=${mode} aria-live="polite">
    <div><strong data-testid="feedback-mode">${MODE_WORDS[mode]}</strong>${left !== null && mode !== 'mirror' ? html` <span class="muted">· ${left} min left</span>` : null}</div>
    ${
      f.policy
        ? html`<div data-testid="feedback-policy">set by the council's policy <strong>“${f.policy.name}”</strong> (v${f.policy.version}): ${f.reason}</div>`
        : f.mode !== 'mirror'
          ? html`<div data-testid="feedback-policy">set by the steward</div>`
          : null
    }
    ${optedOut && f.mode !== 'mirror' ? html`<div class="muted" data-testid="feedback-optout">You opted out of adaptive feedback: you see the room as it is. The council set “${f.mode}”.</div>` : null}
    ${f.entry !== null ? html`<div><a href=${`/audit#entry-${f.entry}`} data-testid="feedback-entry">see this decision on the public log (entry ${f.entry})</a></div>` : null}
    ${mode === 'calm' && period ? html`<div class="breathe" style=${`animation-duration:${period}s`} data-testid="breathe" aria-label=${`breathe with the circle, ${f.breathsPerMinute} breaths a minute`}></div>` : null}
    ${mode === 'reflect' && f.prompt ? html`<p class="prompt" data-testid="prompt">${f.prompt}</p>` : null}
    ${
      mode === 'diversity' && camps?.length
        ? html`<div class="row" data-testid="camps">${camps.map((c, i) => html`<span class="camp">camp ${i + 1}: ${Math.round(c.share * 100)}%</span>`)} <span class="muted">— multiplicity, not uniformity</span></div>`
        : null
    }
  </section>`;
}

/**
 * What a policy's `display` action set on the screens while it lasts (Q5, Q8): the smoothing,
 * a hidden crowd, a display mode — with the policy, its reason and its log entry. Nothing when
 * no policy overrides the display (or, on a participant's screen, once they opted out).
 */
export function DisplayOverrideNote({ pulse, optedOut = false, participant = false }: { pulse: unknown; optedOut?: boolean; participant?: boolean }) {
  const d = displayFieldOf(pulse);
  if (d?.by !== 'policy' || !d.policy || d.paused) return null;
  const parts: string[] = [];
  if (d.smoothingSeconds !== null) parts.push(`the room's mean smoothed over ${d.smoothingSeconds} s`);
  if (d.showCrowd === false) parts.push(participant ? 'the crowd hidden on your screen (your own point stays)' : "the crowd hidden on participants' screens");
  if (!participant && parts.length === 0) parts.push(`display mode ${d.mode}`);
  if (parts.length === 0) return null;
  const left = minutesLeft(d.until);
  return html`<section class="card feedback display-override" data-testid="display-override" data-smoothing=${d.smoothingSeconds ?? ''} data-crowd=${d.showCrowd ? 'shown' : 'hidden'}>
    ${
      optedOut
        ? html`<div class="muted" data-testid="display-override-optout">You opted out of adaptive feedback: you see the room as it is. The council set ${parts.join(' and ')}.</div>`
        : html`<div><strong data-testid="display-override-what">${parts.join(' · ')}</strong>${left !== null ? html` <span class="muted">· ${left} min left</span>` : null}</div>`
    }
    <div data-testid="display-override-policy">set by the council's policy <strong>“${d.policy.name}”</strong> (v${d.policy.version})${d.reason ? `: ${d.reason}` : ''}</div>
    ${d.entry !== null ? html`<div><a href=${`/audit#entry-${d.entry}`} data-testid="display-override-entry">see this decision on the public log (entry ${d.entry})</a></div>` : null}
  </section>`;
}
