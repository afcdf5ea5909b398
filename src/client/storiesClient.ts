/**
 * Story calls over HTTP (SPEC ST14), for the web app, tests and tools: a participant shares,
 * lists and withdraws their own stories with their resume token; a steward moderates, changes
 * the settings and drives the gathering display with the steward token. Stories go over HTTP,
 * not the socket, because a 1,000-character story can be larger than a socket frame (W2).
 *
 * `fetch` is injected (the browser's by default), so it runs in Node and the browser alike.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { QueueEntry, StoriesView } from '../core/release/stories.ts';
import type { Decision, DeclineReason, StoryControl, StorySettings, StoryStatus } from '../core/stories/stories.ts';

/** A story as its author sees it. */
export interface MyStory {
  readonly id: string;
  readonly text: string;
  readonly name: string | null;
  readonly affect: { readonly valence: number; readonly arousal: number; readonly confidence: number };
  readonly status: StoryStatus;
  readonly reason: DeclineReason | null;
  readonly flagged: boolean;
  readonly at: number;
}

/** The story consent step as the server serves it (`GET /api/consent` → `stories`). */
export interface StoryConsentText {
  readonly version: string;
  readonly purposes: readonly string[];
  readonly text: Readonly<Record<string, { readonly label: string; readonly text: string }>>;
  readonly when: { readonly pre: string; readonly post: string };
}

/** What a call gives: the body, or the server's coded error. */
export type StoryCallResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly status: number };

type Fetch = (input: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<{ status: number; ok: boolean; json(): Promise<unknown> }>;

/** Story calls for one space at `base` (e.g. `https://host`, or '' in the browser). */
export class StoriesClient {
  readonly #base: string;
  readonly #code: string;
  readonly #fetch: Fetch;

  constructor(o: { readonly base: string; readonly code: string; readonly fetch?: Fetch }) {
    this.#base = o.base.replace(/\/+$/, '');
    this.#code = encodeURIComponent(o.code);
    this.#fetch = o.fetch ?? ((i, init) => globalThis.fetch(i, init));
  }

  #call<T>(method: string, path: string, token: string | null, body?: unknown): Promise<StoryCallResult<T>> {
    return this.#request(method, `/api/spaces/${this.#code}/stories${path}`, token, body);
  }

  async #request<T>(method: string, url: string, token: string | null, body?: unknown): Promise<StoryCallResult<T>> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.#fetch(`${this.#base}${url}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json().catch(() => null)) as { error?: { code: ErrorCode; message: string } } | null;
    if (!res.ok) return { ok: false, code: json?.error?.code ?? 'INTERNAL', message: json?.error?.message ?? `HTTP ${res.status}`, status: res.status };
    return { ok: true, value: json as T };
  }

  /** The story consent step's text and its current version (public, SPEC V1). */
  async consentText(): Promise<StoryCallResult<StoryConsentText>> {
    const r = await this.#request<{ stories: StoryConsentText }>('GET', '/api/consent', null);
    return r.ok ? { ok: true, value: r.value.stories } : r;
  }

  /** Records the participant's agreement to the story consent text of `version` on the server (ST2). */
  agree(token: string, version: string): Promise<StoryCallResult<{ version: string; purposes: string[] }>> {
    return this.#request('POST', '/api/me/consent', token, { version, purpose: 'stories' });
  }

  /** Shares a story (after its own consent step, recorded with {@link agree}). */
  share(token: string, story: { readonly text: string; readonly name?: string | null; readonly consent: true }): Promise<StoryCallResult<MyStory>> {
    return this.#call('POST', '', token, story);
  }

  /** The participant's own stories with their states. */
  mine(token: string): Promise<StoryCallResult<{ enabled: boolean; moderation: 'pre' | 'post'; consent: { version: string; agreed: boolean; changed: boolean }; stories: MyStory[] }>> {
    return this.#call('GET', '/mine', token);
  }

  /** Withdraws (erases) one of the participant's stories. */
  withdraw(token: string, id: string): Promise<StoryCallResult<{ id: string; withdrawn: true }>> {
    return this.#call('DELETE', `/${encodeURIComponent(id)}`, token);
  }

  /** The gathering display's released view (public). */
  shown(): Promise<StoryCallResult<StoriesView>> {
    return this.#call('GET', '/shown', null);
  }

  /** Steward: the moderation queue and the settings. */
  queue(stewardToken: string): Promise<StoryCallResult<{ settings: StorySettings; stories: QueueEntry[] }>> {
    return this.#call('GET', '/queue', stewardToken);
  }

  /** Steward: approve, decline (with a reason category) or hide a story — a logged act. */
  decide(stewardToken: string, id: string, decision: Decision, reason?: DeclineReason): Promise<StoryCallResult<{ id: string; status: StoryStatus; reason: DeclineReason | null }>> {
    return this.#call('POST', `/${encodeURIComponent(id)}/decision`, stewardToken, { decision, ...(reason ? { reason } : {}) });
  }

  /** Steward: stories on/off and pre/post-moderation — a logged act. */
  settings(stewardToken: string, settings: StorySettings): Promise<StoryCallResult<StorySettings>> {
    return this.#call('PUT', '/settings', stewardToken, settings);
  }

  /** Steward: pin, unpin, skip, pause or resume the gathering display. */
  control(stewardToken: string, control: StoryControl, id?: string): Promise<StoryCallResult<{ current: string | null; pinned: boolean; paused: boolean }>> {
    return this.#call('POST', '/display', stewardToken, { control, ...(id ? { story: id } : {}) });
  }

  /** Steward: the session export of shown stories. */
  export(stewardToken: string): Promise<StoryCallResult<{ stories: QueueEntry[] }>> {
    return this.#call('GET', '/export', stewardToken);
  }
}
