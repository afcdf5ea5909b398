/**
 * "Share a story" on the participant page (SPEC §ST): its own consent step that says exactly
 * where a story may appear, a pseudonym or none, the text analyser's reading of it, and the
 * author's stories with their states — each one withdrawable at once. Stories are shown as text
 * only (htm renders them as text nodes, never as HTML).
 */
import { useEffect, useState } from 'preact/hooks';
import { type MyStory, StoriesClient } from '../../../src/client/storiesClient.ts';
import { STORY_CONSENT_TEXT, STORY_CONSENT_WHEN } from '../../../src/core/consent.ts';
import { MAX_STORY_CHARS } from '../../../src/core/stories/storyText.ts';
import { html } from './ui.ts';

/** How a decline reason reads to the author. */
export const REASON_WORDS: Record<string, string> = {
  'identifies-someone': 'it could identify someone',
  hurtful: 'it could hurt someone',
  explicit: 'explicit content',
  'off-topic': 'not about this gathering',
  spam: 'spam',
  other: 'another reason',
};

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const charsOf = (s: string) => {
  let n = 0;
  for (const _ of segmenter.segment(s)) n++;
  return n;
};

function stateWords(s: MyStory): string {
  if (s.status === 'waiting') return s.flagged ? 'waiting for the steward (marked for a closer look)' : 'waiting for the steward';
  if (s.status === 'shown') return 'shown on the gathering display';
  if (s.status === 'hidden') return 'taken off the display by the steward';
  return `declined: ${REASON_WORDS[s.reason ?? 'other'] ?? s.reason}`;
}

/** Words for where a story's text sits on the field. */
export function affectWords(a: { valence: number; arousal: number; confidence: number }): string {
  const v = a.valence > 0.15 ? 'pleasant' : a.valence < -0.15 ? 'unpleasant' : 'mixed';
  const e = a.arousal > 0.15 ? 'energised' : a.arousal < -0.15 ? 'calm' : 'steady';
  return `${v} and ${e} (valence ${a.valence.toFixed(2)}, energy ${a.arousal.toFixed(2)}, confidence ${Math.round(a.confidence * 100)}%)`;
}


/** The panel. `token` is this device's participant token (null until the welcome); `bump` changes when the server told us a story changed. */
export function StoryPanel({ code, token, bump }: { code: string; token: string | null; bump: number }) {
  const client = new StoriesClient({ base: '', code });
  const [enabled, setEnabled] = useState<{ enabled: boolean; moderation: 'pre' | 'post' } | null>(null);
  const [mine, setMine] = useState<MyStory[]>([]);
  const [open, setOpen] = useState(false);
  // The story consent is recorded on the server (ST2): which text, when, for `stories`.
  const [consent, setConsent] = useState<{ version: string; agreed: boolean; changed: boolean } | null>(null);
  const [text, setText] = useState('');
  const [name, setName] = useState('');
  const [anonymous, setAnonymous] = useState(true);
  const [note, setNote] = useState('');
  const [sending, setSending] = useState(false);

  const refresh = async () => {
    if (!token) return;
    const r = await client.mine(token);
    if (r.ok) {
      setMine(r.value.stories);
      setEnabled({ enabled: r.value.enabled, moderation: r.value.moderation });
      setConsent(r.value.consent);
    }
  };
  useEffect(() => {
    void refresh();
  }, [token, bump]);

  if (!enabled?.enabled && mine.length === 0) return null;
  const count = charsOf(text.trim());
  const share = async (e: Event) => {
    e.preventDefault();
    if (!token || sending) return;
    setSending(true);
    setNote('');
    const r = await client.share(token, { text, name: anonymous ? null : name, consent: true });
    setSending(false);
    if (!r.ok) {
      setNote(r.message);
      // The story consent text changed (or was never agreed): the consent step shows again.
      if (r.code === 'CONSENT_REQUIRED') await refresh();
      return;
    }
    setText('');
    setNote(`Thank you. ${r.value.status === 'shown' ? 'Your story can appear on the gathering display now.' : 'Your story is waiting for the steward.'} Its words read as ${affectWords(r.value.affect)}.`);
    await refresh();
  };
  const agree = async () => {
    if (!token || !consent) return;
    const r = await client.agree(token, consent.version);
    if (!r.ok) {
      setNote(r.message);
      await refresh();
      return;
    }
    setNote('');
    setConsent({ ...consent, agreed: true, changed: false });
  };
  const withdraw = async (id: string) => {
    if (!token) return;
    const r = await client.withdraw(token, id);
    setNote(r.ok ? 'Withdrawn: it is gone from every screen and deleted.' : r.message);
    await refresh();
  };

  return html`
    <section class="card stories" data-testid="stories">
      ${
        enabled?.enabled
          ? !open
            ? html`<button class="secondary" data-testid="story-open" onClick=${() => setOpen(true)}>Share a story</button>`
            : !consent?.agreed
              ? html`<div data-testid="story-consent">
                  <h2>Share a story</h2>
                  ${consent?.changed ? html`<p class="error" data-testid="story-consent-changed">What happens to a story has been reworded since you last agreed. Please read it again.</p>` : null}
                  <p>${STORY_CONSENT_TEXT.intro.text}</p>
                  <ul>
                    ${[STORY_CONSENT_TEXT.where, STORY_CONSENT_TEXT.name, STORY_CONSENT_TEXT.words, STORY_CONSENT_TEXT.withdraw].map(
                      (section) => html`<li><strong>${section.label}:</strong> ${section.text.replace('{when}', STORY_CONSENT_WHEN[enabled.moderation])}</li>`,
                    )}
                  </ul>
                  <div class="row">
                    <button data-testid="story-consent-yes" disabled=${!token || !consent} onClick=${agree}>I understand — let me write</button>
                    <button class="secondary" onClick=${() => setOpen(false)}>Not now</button>
                  </div>
                </div>`
              : html`<form onSubmit=${share} data-testid="story-form">
                  <label for="story-text">Your story</label>
                  <textarea id="story-text" rows="6" data-testid="story-text" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)} dir="auto"></textarea>
                  <p class=${count > MAX_STORY_CHARS ? 'error' : 'muted'} data-testid="story-count">${count} / ${MAX_STORY_CHARS} characters</p>
                  <label class="row" style="font-weight:400"><input type="checkbox" style="width:auto" checked=${anonymous} data-testid="story-anonymous" onChange=${(e: Event) => setAnonymous((e.target as HTMLInputElement).checked)} /> Share without a name</label>
                  ${anonymous ? null : html`<label for="story-name">Pseudonym</label><input id="story-name" maxlength="120" data-testid="story-name" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />`}
                  <div class="row" style="margin-top:8px">
                    <button type="submit" data-testid="story-send" disabled=${sending || count === 0 || !token}>Share</button>
                    <button type="button" class="secondary" onClick=${() => setOpen(false)}>Close</button>
                  </div>
                </form>`
          : html`<p class="muted">This space no longer takes new stories.</p>`
      }
      <p class="status" aria-live="polite" data-testid="story-note">${note}</p>
      ${
        mine.length
          ? html`<h2>Your stories</h2>
            <ul class="my-stories">
              ${mine.map(
                (s) => html`<li key=${s.id} data-testid="my-story" data-status=${s.status}>
                  <span class="story-text" dir="auto">${s.text.length > 120 ? `${s.text.slice(0, 120)}…` : s.text}</span>
                  <div class="muted" data-testid="my-story-state">${stateWords(s)} · ${s.name ? `as ${s.name}` : 'no name'}</div>
                  <button class="secondary" data-testid="story-withdraw" onClick=${() => withdraw(s.id)}>Withdraw</button>
                </li>`,
              )}
            </ul>`
          : null
      }
    </section>
  `;
}
