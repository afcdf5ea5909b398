/**
 * Stories end to end through the HTTP API and the host (SPEC §ST): settings, consent, hostile
 * text, the automatic pass, rate limits, moderation acts on the log (categories and counts,
 * never the text), the gathering display's release below and above the cohort, its controls,
 * withdrawal and erasure. In process (`app.request()`), on a manual scheduler.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { analyzeText } from '../src/analyze/text/analyzeText.ts';
import { screenStory } from '../src/analyze/profanity/screenStory.ts';
import { LocalBus } from '../src/bus/local/localBus.ts';
import { STORY_DWELL_MS } from '../src/core/stories/stories.ts';
import { createHash } from 'node:crypto';
import { participantTokenKey } from '../src/space/tokens.ts';
import { storyConsentDocument } from '../src/core/consent.ts';
import { createApp } from '../src/http/app.ts';
import { createMeRoutes } from '../src/http/meRoutes.ts';
import { createStoryRoutes } from '../src/http/storyRoutes.ts';
import { MemoryGovernance } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { type ConnSink, SpaceHost, subjects } from '../src/space/spaceHost.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';

let host: SpaceHost;
let storage: MemoryStorage;
let governance: MemoryGovernance;
let scheduler: ManualScheduler;
let app: ReturnType<typeof createApp>;
let code: string;
let steward: string;
let spaceId: string;
/** Stories views the displays got, in order. */
let views: { current: { id: string; text: string; name: string | null } | null; suppressed: boolean; themes: { term: string }[] | null; pinned: boolean; paused: boolean }[];

beforeEach(async () => {
  governance = new MemoryGovernance();
  scheduler = new ManualScheduler();
  storage = new MemoryStorage();
  host = new SpaceHost({ storage, bus: new LocalBus(), governance, scheduler, machine: { release: { minCohort: 3 } }, analyseText: analyzeText, screenStory });
  await host.start();
  app = createApp({ host, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, clock: () => scheduler.now(), spaceRoutes: [createStoryRoutes({ host })] });
  const r = await host.createSpace({ name: 'Gathering', ttlSeconds: 3600 });
  if (!r.ok) throw new Error(r.message);
  code = r.value.space.code;
  steward = r.value.stewardToken;
  spaceId = r.value.space.id;
  views = [];
  host.bus.subscribe(subjects.stories(spaceId), (bytes) => views.push(JSON.parse(new TextDecoder().decode(bytes))));
});

afterEach(async () => {
  await host.stop();
});

const settle = async () => {
  await host.drain();
  await new Promise((r) => setImmediate(r));
  await host.drain();
};

/** A participant joined straight through the host; their frames are collected. */
async function person(valence = 0.2, storyConsent = true): Promise<{ ref: number; token: string; frames: string[] }> {
  const frames: string[] = [];
  const sink: ConnSink = { send: (f) => frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: () => {}, welcomed: () => {} };
  const ref = host.attach(sink);
  const j = await host.join(ref, code, 'participant', true);
  if (!j.ok) throw new Error(j.message);
  await settle();
  const token = (frames.map((f) => JSON.parse(f)).find((m) => m.t === 'welcome') as { token: string }).token;
  host.input(ref, { t: 'input', seq: 1, valence, arousal: 0.1, confidence: 1, source: 'tap' }, true);
  await settle();
  // The story's own consent step, recorded on the server (ST2, V1).
  if (storyConsent) {
    const agreed = await host.consentAgain(token, host.storyConsentVersion, 'stories');
    if (!agreed.ok) throw new Error(agreed.message);
  }
  return { ref, token, frames };
}

const call = (method: string, path: string, token?: string, body?: unknown) =>
  app.request(`/api/spaces/${code}/stories${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

async function share(token: string, text: string, name: string | null = null): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await call('POST', '', token, { text, name, consent: true });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function turnOn(moderation: 'pre' | 'post' = 'pre'): Promise<void> {
  const r = await call('PUT', '/settings', steward, { enabled: true, moderation });
  expect(r.status).toBe(200);
}

async function decide(id: string, decision: string, reason?: string): Promise<Response> {
  return call('POST', `/${id}/decision`, steward, { decision, ...(reason ? { reason } : {}) });
}

describe('stories', () => {
  it('[ST1] are off until the steward turns them on, an act on the log first', async () => {
    const p = await person();
    const off = await share(p.token, 'We rebuilt the fence together.');
    expect(off.status).toBe(403);
    expect((off.body.error as { code: string }).code).toBe('STORIES_OFF');
    expect((await call('PUT', '/settings', 'wrong-token', { enabled: true })).status).toBe(401);
    await turnOn();
    expect(governance.acts.at(-1)).toMatchObject({ type: 'stories.settings', space: spaceId, payload: { enabled: true, moderation: 'pre' } });
    expect((await share(p.token, 'We rebuilt the fence together.')).status).toBe(201);
  });

  it('[ST2] needs its own consent and the participant token of this space', async () => {
    await turnOn();
    const p = await person();
    const r = await call('POST', '', p.token, { text: 'a story', consent: false });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('CONSENT_REQUIRED');
    expect((await call('POST', '', undefined, { text: 'a story', consent: true })).status).toBe(401);
    expect((await call('POST', '', 'not-a-token-of-anyone', { text: 'a story', consent: true })).status).toBe(401);
    expect(await storage.listStories(spaceId)).toEqual([]);
  });

  it('[ST2][V1] the story consent is recorded on the server (which text, when, for stories); without it, or after its text changed, a story is refused and the step asks again', async () => {
    const meApp = createApp({ host, publicUrl: () => 'http://attune.test', isAdmin: () => false, webRoot: null, clock: () => scheduler.now(), spaceRoutes: [createStoryRoutes({ host })], apiRoutes: [createMeRoutes({ host, toEmotionML: () => '' })] });
    await turnOn();
    const p = await person(0.2, false);
    // Never agreed: refused with a coded error, nothing stored; the author's view asks for it.
    const never = await share(p.token, 'We carried water up the hill.');
    expect(never.status).toBe(403);
    expect(never.body.error).toMatchObject({ code: 'CONSENT_REQUIRED', message: expect.stringContaining('story consent') });
    expect(await storage.listStories(spaceId)).toEqual([]);
    const served = (await (await meApp.request('/api/consent')).json()) as { version: string; stories: { version: string; purposes: string[]; text: Record<string, { label: string; text: string }>; when: { pre: string } } };
    expect(served.stories.version).toBe(createHash('sha256').update(storyConsentDocument()).digest('hex'));
    expect(served.stories.version).not.toBe(served.version);
    expect(served.stories.purposes).toEqual(['stories']);
    expect(served.stories.text.where?.text).toContain('moderation queue');
    const mine = async () => (await (await call('GET', '/mine', p.token)).json()) as { consent: { version: string; agreed: boolean; changed: boolean } };
    expect((await mine()).consent).toEqual({ version: served.stories.version, agreed: false, changed: false });
    // Agreeing to another text than the current one is refused; to the current one, recorded.
    const agree = (version: string, token = p.token) => meApp.request('/api/me/consent', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ version, purpose: 'stories' }) });
    expect((await agree(served.version)).status).toBe(403);
    expect((await agree(served.stories.version, 'nobody')).status).toBe(404);
    scheduler.advance(1000);
    const ok = await agree(served.stories.version);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ version: served.stories.version, purposes: ['stories'] });
    const pid = (await storage.getParticipantByTokenHash(participantTokenKey(p.token)))?.id as string;
    expect((await storage.listConsents(pid)).map((c) => [c.hash, c.purposes])).toEqual([
      [served.version, ['pulse']],
      [served.stories.version, ['stories']],
    ]);
    expect((await storage.listConsents(pid)).at(-1)?.at).toBe(scheduler.now());
    expect((await mine()).consent).toMatchObject({ agreed: true, changed: false });
    expect((await share(p.token, 'We carried water up the hill.')).status).toBe(201);
    // The story consent text changed since they agreed (an older version on record): asked again.
    await storage.recordConsent({ participantId: pid, at: scheduler.now(), hash: 'f'.repeat(64), purposes: ['stories'] });
    const changed = await share(p.token, 'And then the lights came back.');
    expect(changed.status).toBe(403);
    expect(changed.body.error).toMatchObject({ code: 'CONSENT_REQUIRED', message: expect.stringContaining('changed') });
    expect((await mine()).consent).toMatchObject({ agreed: false, changed: true });
    expect((await agree(served.stories.version)).status).toBe(200);
    expect((await share(p.token, 'And then the lights came back.')).status).toBe(201);
    // The pulse's own consent is unaffected by a story consent, and vice versa.
    expect((await storage.listConsents(pid)).filter((c) => c.purposes.includes('pulse'))).toHaveLength(1);
  });

  it('[ST3] hostile stories: markup, emoji and line breaks are kept as text; overlong, control and direction characters are refused with codes', async () => {
    await turnOn();
    const p = await person();
    const payload = '<script>window.pwned=1</script><img src=x onerror="alert(1)"> 🌊🏚️👩‍👩‍👧 after the storm\nwe stayed';
    const kept = await share(p.token, payload, '<b>River</b>');
    expect(kept.status).toBe(201);
    const [stored] = await storage.listStories(spaceId);
    expect(stored?.text).toBe(payload);
    expect(stored?.name).toBe('<b>River</b>');
    const refused = async (text: string, want: string) => {
      const r = await share(p.token, text);
      expect(r.status, text.slice(0, 20)).toBe(400);
      expect((r.body.error as { code: string }).code).toBe(want);
    };
    await refused('x'.repeat(10_000), 'STORY_TOO_LONG');
    await refused('paid \u202Egnp.exe', 'BAD_CHARACTER');
    await refused('bell \u0007 ring', 'BAD_CHARACTER');
    await refused('zero\u200Bwidth', 'BAD_CHARACTER');
    await refused('   ', 'BAD_REQUEST');
    expect((await share(p.token, 'ok', 'name\u2066hidden')).status).toBe(400);
    // 1,000 emoji are 1,000 characters: accepted.
    expect((await share(p.token, '🌊'.repeat(1000))).status).toBe(201);
    expect((await storage.listStories(spaceId)).length).toBe(2);
  });

  it('[ST4] the automatic pass flags and never drops; post-moderation shows unflagged stories at once and holds flagged ones', async () => {
    await turnOn('post');
    const p = await person();
    const clean = await share(p.token, 'I grew shiitake mushrooms in Penistone after the flood.');
    expect(clean.body).toMatchObject({ status: 'shown', flagged: false });
    const rude = await share(p.token, 'The insurance people were f u c k i n g useless.');
    expect(rude.body).toMatchObject({ status: 'waiting', flagged: true });
    const q = (await (await call('GET', '/queue', steward)).json()) as { stories: { status: string; flags: string[] }[] };
    expect(q.stories.map((s) => s.status)).toEqual(['shown', 'waiting']);
    expect(q.stories[1]?.flags).toEqual(['profanity:fuck']);
    expect(JSON.stringify(q)).not.toContain(p.token);
  });

  it('[ST5] rate-limits each participant: 3 stories per 10 minutes', async () => {
    await turnOn('post');
    const p = await person();
    const other = await person();
    for (let i = 0; i < 3; i++) expect((await share(p.token, `story number ${i}`)).status).toBe(201);
    const fourth = await share(p.token, 'one more');
    expect(fourth.status).toBe(429);
    expect((fourth.body.error as { code: string }).code).toBe('RATE_LIMITED');
    expect((await share(other.token, 'mine is fine')).status).toBe(201);
    scheduler.advance(10 * 60_000 + 1);
    expect((await share(p.token, 'later')).status).toBe(201);
  });

  it('[ST6][ST7][ST12] approve / decline / hide are acts logged with categories only; the author is told and sees the states', async () => {
    await turnOn();
    const p = await person();
    const a = (await share(p.token, 'The neighbours carried my mother out.', 'River')).body.id as string;
    const b = (await share(p.token, 'Tom Baker at number 12 looted the shop.')).body.id as string;
    const before = governance.acts.length;
    expect((await decide(a, 'approve')).status).toBe(200);
    expect((await decide(b, 'decline', 'identifies-someone')).status).toBe(200);
    expect((await decide(a, 'hide')).status).toBe(200);
    expect((await decide(a, 'hide')).status).toBe(409);
    expect((await decide('nope', 'approve')).status).toBe(409);
    expect((await call('POST', `/${a}/decision`, 'bad', { decision: 'approve' })).status).toBe(401);
    const logged = governance.acts.slice(before);
    expect(logged.map((x) => x.payload)).toEqual([
      { decision: 'approve', count: 1 },
      { decision: 'decline', reason: 'identifies-someone', count: 1 },
      { decision: 'hide', count: 1 },
    ]);
    const text = JSON.stringify(governance.acts);
    for (const secret of ['neighbours', 'Tom Baker', 'River', a, b, p.token]) expect(text).not.toContain(secret);
    const told = p.frames.map((f) => JSON.parse(f)).filter((m) => m.t === 'story');
    expect(told.map((m) => `${m.status}:${m.reason}`)).toEqual(['shown:null', 'declined:identifies-someone', 'hidden:null']);
    const mine = (await (await call('GET', '/mine', p.token)).json()) as { stories: { id: string; status: string; reason: string | null; affect: { valence: number } }[] };
    expect(mine.stories.map((s) => [s.id, s.status, s.reason])).toEqual(expect.arrayContaining([
      [a, 'hidden', null],
      [b, 'declined', 'identifies-someone'],
    ]));
    expect(mine.stories).toHaveLength(2);
    expect(Number.isFinite(mine.stories[0]?.affect.valence)).toBe(true);
    expect((await storage.listStories(spaceId)).map((s) => s.status).sort()).toEqual(['declined', 'hidden']);
  });

  it('[ST8][ST9][ST10] the gathering display shows approved stories one at a time, only with the cohort present; pin, skip, pause', async () => {
    await turnOn();
    const p1 = await person();
    const p2 = await person();
    const ids: string[] = [];
    for (const t of ['First story of the water.', 'Second story of the roof.', 'Third story of the boats.']) {
      const id = (await share(p1.token, t)).body.id as string;
      ids.push(id);
      await decide(id, 'approve');
    }
    // Two people present (< k = 3): nothing but `suppressed`.
    scheduler.advance(600);
    await settle();
    expect(views.at(-1)).toMatchObject({ suppressed: true, current: null, themes: null });
    expect((await (await call('GET', '/shown')).json()) as object).toMatchObject({ suppressed: true, current: null });
    await person();
    scheduler.advance(600);
    await settle();
    expect(views.at(-1)).toMatchObject({ suppressed: false, current: { id: ids[0], text: 'First story of the water.', name: null } });
    expect(JSON.stringify(views.at(-1))).not.toContain(p1.token);
    scheduler.advance(STORY_DWELL_MS + 500);
    await settle();
    expect(views.at(-1)?.current?.id).toBe(ids[1]);
    expect((await call('POST', '/display', steward, { control: 'pin', story: ids[0] })).status).toBe(200);
    scheduler.advance(STORY_DWELL_MS * 3);
    await settle();
    expect(views.at(-1)).toMatchObject({ pinned: true, current: { id: ids[0] } });
    await call('POST', '/display', steward, { control: 'skip' });
    expect(views.at(-1)?.current?.id).toBe(ids[1]);
    await call('POST', '/display', steward, { control: 'pause' });
    scheduler.advance(STORY_DWELL_MS * 3);
    await settle();
    expect(views.at(-1)).toMatchObject({ paused: true, current: { id: ids[1] } });
    expect((await call('POST', '/display', undefined, { control: 'resume' })).status).toBe(401);
    void p2;
  });

  it('[ST9] themes: only words used by ≥ 3 different stories, names and stop words removed', async () => {
    await turnOn('post');
    const ps = [await person(), await person(), await person()];
    const texts = ['After the flood Maria helped us, the water was cold.', 'The water took the garden; the neighbours came.', 'Cold water everywhere, but the neighbours came with tea.', 'Maria and the neighbours sang.'];
    for (const [i, t] of texts.entries()) expect((await share((ps[i % 3] as { token: string }).token, t)).status).toBe(201);
    scheduler.advance(600);
    await settle();
    const terms = views.at(-1)?.themes?.map((t) => t.term) ?? [];
    expect(terms).toContain('water');
    expect(terms).toContain('neighbours');
    expect(terms).not.toContain('maria');
    expect(terms).not.toContain('the');
    expect(terms).not.toContain('cold'); // two stories only
  });

  it('[ST11] withdrawing leaves the display at once and erases the story from storage', async () => {
    await turnOn('post');
    const p = await person();
    await person();
    await person();
    const id = (await share(p.token, 'A story I may take back.')).body.id as string;
    scheduler.advance(600);
    await settle();
    expect(views.at(-1)?.current?.id).toBe(id);
    const other = await person();
    expect((await call('DELETE', `/${id}`, other.token)).status).toBe(404);
    const r = await call('DELETE', `/${id}`, p.token);
    expect(r.status).toBe(200);
    expect(views.at(-1)?.current).toBeNull();
    await settle();
    expect(await storage.listStories(spaceId)).toEqual([]);
    expect(p.frames.map((f) => JSON.parse(f)).filter((m) => m.t === 'story').at(-1)).toMatchObject({ id, status: 'withdrawn' });
    expect((await (await call('GET', '/mine', p.token)).json()) as object).toEqual({ enabled: true, moderation: 'post', consent: { version: host.storyConsentVersion, agreed: true, changed: false }, stories: [] });
    expect((await decide(id, 'hide')).status).toBe(409);
  });

  it('[ST2] no released view, queue, export or log entry carries the author’s participant id', async () => {
    await turnOn('post');
    const ps = [await person(), await person(), await person()];
    for (const [i, p] of ps.entries()) await share(p.token, `Story ${i} about the water and the neighbours and the boats.`, i === 0 ? 'Fern' : null);
    scheduler.advance(600);
    await settle();
    const ids = ps.map((p) => (p.frames.map((f) => JSON.parse(f)).find((m) => m.t === 'welcome') as { participant: string }).participant);
    expect(ids.every((x) => typeof x === 'string' && x.length > 8)).toBe(true);
    const seen = JSON.stringify([
      views,
      await (await call('GET', '/shown')).json(),
      await (await call('GET', '/queue', steward)).json(),
      await (await call('GET', '/export', steward)).json(),
      governance.acts,
    ]);
    expect(views.at(-1)?.themes?.map((t) => t.term)).toEqual(expect.arrayContaining(['water', 'neighbours', 'boats']));
    for (const id of ids) expect(seen).not.toContain(id);
    for (const p of ps) expect(seen).not.toContain(p.token);
  });

  it('[ST11][ST2] after the space closes, the author still sees and withdraws their stories, and the steward can still export', async () => {
    await turnOn('post');
    const p = await person();
    const kept = (await share(p.token, 'A story that stays in the record.')).body.id as string;
    const gone = (await share(p.token, 'A story I take back after the close.')).body.id as string;
    expect((await host.closeSpace(code, steward)).ok).toBe(true);
    expect((await share(p.token, 'too late')).status).toBe(410);
    const mine = (await (await call('GET', '/mine', p.token)).json()) as { enabled: boolean; stories: { id: string }[] };
    expect(mine.enabled).toBe(false);
    expect(mine.stories.map((x) => x.id).sort()).toEqual([kept, gone].sort());
    expect((await call('DELETE', `/${gone}`, p.token)).status).toBe(200);
    expect((await storage.listStories(spaceId)).map((x) => x.id)).toEqual([kept]);
    const exp = (await (await call('GET', '/export', steward)).json()) as { stories: { id: string }[] };
    expect(exp.stories.map((x) => x.id)).toEqual([kept]);
  });

  it('[ST2] the session export holds the shown stories, never who wrote them', async () => {
    await turnOn('post');
    const p = await person();
    await share(p.token, 'Exported story.', 'Fern');
    const r = await call('GET', '/export', steward);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { stories: Record<string, unknown>[] };
    expect(body.stories).toHaveLength(1);
    expect(body.stories[0]).toMatchObject({ text: 'Exported story.', name: 'Fern', status: 'shown' });
    expect(Object.keys(body.stories[0] ?? {})).not.toContain('participantId');
    expect((await call('GET', '/export')).status).toBe(401);
  });
});
