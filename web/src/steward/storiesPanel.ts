/**
 * The steward's stories panel (SPEC ST1, ST6–ST8): the settings (stories on, pre- or
 * post-moderation), the moderation queue — keyboard-driven — and the gathering display's
 * controls. Every decision and every settings change is an act on the public log (category and
 * count only); the queue never shows who wrote a story.
 *
 * Keys, with the queue focused: ↑/↓ or k/j choose a story · a approve · h hide · d decline,
 * then 1–6 for the reason · p pin to the display · s skip · space pause/resume the display.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { StoriesClient } from '../../../src/client/storiesClient.ts';
import type { QueueEntry, StoriesView } from '../../../src/core/release/stories.ts';
import { DECLINE_REASONS, type DeclineReason, type StorySettings } from '../../../src/core/stories/stories.ts';
import { affectWords, REASON_WORDS } from '../lib/storyPanel.ts';
import { html } from '../lib/ui.ts';

const ORDER: Record<string, number> = { waiting: 0, shown: 1, hidden: 2, declined: 3 };

/** The panel; `view` is the display view the steward page's socket got. */
export function StoriesPanel({ code, token, view }: { code: string; token: string | null; view: StoriesView | null }) {
  const client = new StoriesClient({ base: '', code });
  const [settings, setSettings] = useState<StorySettings | null>(null);
  const [stories, setStories] = useState<QueueEntry[]>([]);
  const [selected, setSelected] = useState(0);
  const [declining, setDeclining] = useState(false);
  const [note, setNote] = useState('');
  const busy = useRef(false);

  const refresh = async () => {
    if (!token) return;
    const r = await client.queue(token);
    if (!r.ok) return setNote(r.message);
    setSettings(r.value.settings);
    setStories([...r.value.stories].sort((a, b) => (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || a.at - b.at));
  };
  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), 2000);
    return () => clearInterval(t);
  }, [token]);

  if (!token) return html`<p class="muted">Open the steward link to moderate stories.</p>`;
  const current = stories[Math.min(selected, stories.length - 1)];
  const run = async (what: string, f: () => Promise<{ ok: boolean; message?: string }>) => {
    if (busy.current) return;
    busy.current = true;
    const r = await f();
    busy.current = false;
    setNote(r.ok ? `${what} — logged publicly as a count.` : (r.message ?? 'failed'));
    setDeclining(false);
    // Waiting stories sort first: after a decision the cursor goes to the next one waiting.
    if (r.ok && !what.startsWith('Display')) setSelected(0);
    await refresh();
  };
  const decide = (s: QueueEntry | undefined, decision: 'approve' | 'hide' | 'decline', reason?: DeclineReason) => {
    if (!s) return;
    void run(decision === 'approve' ? 'Approved' : decision === 'hide' ? 'Hidden' : `Declined (${reason})`, () => client.decide(token, s.id, decision, reason));
  };
  const control = (c: 'pin' | 'unpin' | 'skip' | 'pause' | 'resume', id?: string) => void run(`Display: ${c}`, () => client.control(token, c, id));
  const save = (next: StorySettings) => void run(next.enabled ? `Stories on (${next.moderation}-moderation)` : 'Stories off', () => client.settings(token, next));

  const onKey = (e: KeyboardEvent) => {
    const k = e.key;
    if (declining && /^[1-6]$/.test(k)) {
      decide(current, 'decline', DECLINE_REASONS[Number(k) - 1]);
    } else if (k === 'Escape') setDeclining(false);
    else if (k === 'ArrowDown' || k === 'j') setSelected((i) => Math.min(stories.length - 1, i + 1));
    else if (k === 'ArrowUp' || k === 'k') setSelected((i) => Math.max(0, i - 1));
    else if (k === 'a') decide(current, 'approve');
    else if (k === 'h') decide(current, 'hide');
    else if (k === 'd') setDeclining(true);
    else if (k === 'p' && current) control('pin', current.id);
    else if (k === 's') control('skip');
    else if (k === ' ') control(view?.paused ? 'resume' : 'pause');
    else return;
    e.preventDefault();
  };

  return html`
    <div class="card" data-testid="stories-panel">
      <div class="row">
        <label class="row" style="font-weight:400;margin:0"><input type="checkbox" style="width:auto" data-testid="stories-enabled" checked=${settings?.enabled ?? false} onChange=${(e: Event) => save({ enabled: (e.target as HTMLInputElement).checked, moderation: settings?.moderation ?? 'pre' })} /> Take stories</label>
        <label class="row" style="font-weight:400;margin:0">Moderation
          <select data-testid="stories-moderation" value=${settings?.moderation ?? 'pre'} onChange=${(e: Event) => save({ enabled: settings?.enabled ?? false, moderation: (e.target as HTMLSelectElement).value as 'pre' | 'post' })}>
            <option value="pre">before showing (pre)</option>
            <option value="post">after showing (post)</option>
          </select></label>
      </div>
      <p class="muted">Now on the gathering display (<a href=${`/d/${code}?mode=stories`} target="_blank">open</a>): <span data-testid="stories-now">${view?.suppressed ? `nothing until ${view.minCohort} people are here` : view?.current ? `“${view.current.text.slice(0, 80)}”` : 'nothing'}</span>${view?.pinned ? ' · pinned' : ''}${view?.paused ? ' · paused' : ''}</p>
      <div class="row">
        <button class="secondary" onClick=${() => control('skip')}>Skip</button>
        <button class="secondary" data-testid="stories-pause" onClick=${() => control(view?.paused ? 'resume' : 'pause')}>${view?.paused ? 'Resume' : 'Pause'}</button>
        ${view?.pinned ? html`<button class="secondary" onClick=${() => control('unpin')}>Unpin</button>` : null}
        <button class="secondary" onClick=${async () => {
          const r = await client.export(token);
          if (!r.ok) return setNote(r.message);
          const a = document.createElement('a');
          a.href = URL.createObjectURL(new Blob([JSON.stringify(r.value, null, 2)], { type: 'application/json' }));
          a.download = `attune-${code}-stories.json`;
          a.click();
        }}>Download the stories export</button>
      </div>
      <p class="muted">Keys (click the queue first): ↑/↓ choose · <kbd>a</kbd> approve · <kbd>d</kbd> then <kbd>1</kbd>–<kbd>6</kbd> decline · <kbd>h</kbd> hide · <kbd>p</kbd> pin · <kbd>s</kbd> skip · <kbd>space</kbd> pause</p>
      ${declining ? html`<p data-testid="decline-reasons">Decline because: ${DECLINE_REASONS.map((r, i) => html`<button class="secondary" data-testid=${`decline-${r}`} onClick=${() => decide(current, 'decline', r)}>${i + 1} ${REASON_WORDS[r]}</button> `)}</p>` : null}
      <ol class="queue" tabindex="0" role="listbox" aria-label="Stories to moderate" data-testid="story-queue" onKeyDown=${onKey}>
        ${stories.length === 0 ? html`<li class="muted">No stories yet.</li>` : null}
        ${stories.map(
          (s, i) => html`<li key=${s.id} role="option" aria-selected=${i === selected} class=${i === selected ? 'selected' : ''} data-testid="queue-item" data-status=${s.status} onClick=${() => setSelected(i)}>
            <div class="story-text" dir="auto" data-testid="queue-text">${s.text}</div>
            <div class="muted">${s.status}${s.reason ? `: ${REASON_WORDS[s.reason]}` : ''} · ${s.name ? html`as <bdi>${s.name}</bdi>` : 'no name'} · reads ${affectWords({ valence: s.valence, arousal: s.arousal, confidence: 1 }).replace(/, confidence.*\)/, ')')}${s.flags.length ? html` · <strong class="error" data-testid="queue-flags">flagged: ${s.flags.join(', ')}</strong>` : null}</div>
            ${
              i === selected
                ? html`<div class="row">
                    <button data-testid="approve" onClick=${() => decide(s, 'approve')}>Approve (a)</button>
                    <button class="secondary" data-testid="decline" onClick=${() => setDeclining(true)}>Decline (d)</button>
                    <button class="secondary" data-testid="hide" onClick=${() => decide(s, 'hide')}>Hide (h)</button>
                    ${s.status === 'shown' ? html`<button class="secondary" data-testid="pin" onClick=${() => control('pin', s.id)}>Pin (p)</button>` : null}
                  </div>`
                : null
            }
          </li>`,
        )}
      </ol>
      <p aria-live="polite" data-testid="stories-note">${note}</p>
    </div>
  `;
}
