/**
 * Space templates (SPEC Q14): the four shipped ones check; the validator refuses with the API's
 * codes and can be extended; a space created from a template gets its council, display mode,
 * proposed policies and allowed inputs — each an act on the log — over the host, HTTP and the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { checkTemplate, extendTemplateFields } from '../src/core/templates/spaceTemplate.ts';
import { checkSpaceTemplate } from '../src/core/templates/spaceTemplateFields.ts';
import { createServer, MemoryGovernance, type RunningServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { shippedTemplates } from '../src/server/templates.ts';
import { captureIO } from './support/captureIO.ts';
import { policyJson } from '../src/core/policy/policyJson.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null });
});
afterAll(async () => {
  await server.close();
});

describe('space templates', () => {
  it('[Q14] ships performance, sanctuary, town-hall, festival and reflective-gathering, each valid', () => {
    expect(shippedTemplates().map((t) => t.name)).toEqual(['festival', 'performance', 'reflective-gathering', 'sanctuary', 'town-hall']);
    for (const t of shippedTemplates()) expect(t.template.policies.length).toBeGreaterThan(0);
  });

  it('[Q14] refuses with the API’s codes, naming the field; extensions add fields', () => {
    const base = { name: 'mine' };
    expect(checkTemplate({ ...base, colour: 'red' })).toMatchObject({ ok: false, problem: { code: 'TEMPLATE_INVALID', message: expect.stringContaining('colour') } });
    expect(checkTemplate({ ...base, inputs: { tap: false, text: false, heart: false } })).toMatchObject({ ok: false, problem: { code: 'TEMPLATE_INVALID' } });
    expect(checkTemplate({ ...base, displayMode: 'strobe' })).toMatchObject({ ok: false, problem: { code: 'TEMPLATE_INVALID' } });
    const p = policyJson({ name: 'x', when: 'pulse.moood > 1.0', action: { feedback: { mode: 'calm', minutes: 5 } } });
    expect(checkTemplate({ ...base, policies: [p] })).toMatchObject({ ok: false, problem: { code: 'TEMPLATE_INVALID', message: expect.stringContaining('council') } });
    expect(checkTemplate({ ...base, council: {}, policies: [p] })).toMatchObject({ ok: false, problem: { code: 'POLICY_UNKNOWN_FIELD', message: expect.stringContaining('policies[0]') } });
    const q = policyJson({ name: 'x', when: 'groups["east"].mean.valence < 0.0', action: { feedback: { mode: 'calm', minutes: 5 } } });
    expect(checkTemplate({ ...base, council: {}, groups: ['east'], policies: [q] }).ok).toBe(true);
    // A feature adds its own field (e.g. a reflective-gathering template's stories settings).
    const gathering = { ...base, stories: { moderation: 'pre' } };
    expect(checkTemplate(gathering).ok).toBe(false);
    const fields = extendTemplateFields({ stories: (v) => (typeof v === 'object' && v !== null && ['pre', 'post'].includes(String((v as { moderation?: unknown }).moderation)) ? { ok: true, value: v } : { ok: false, problem: { code: 'TEMPLATE_INVALID', message: 'stories.moderation: pre or post' } }) });
    expect(checkTemplate(gathering, fields)).toMatchObject({ ok: true, template: { stories: { moderation: 'pre' } } });
    expect(() => extendTemplateFields({ name: () => ({ ok: true, value: 1 }) })).toThrow(/already exists/);
  });

  it('[Q14][Q10] a space from town-hall: groups, council, display mode and proposals, each logged first', async () => {
    const townHall = shippedTemplates().find((t) => t.name === 'town-hall');
    const before = server.log?.size ?? 0;
    const r = await server.host.createSpace({ name: 'Civic night', template: townHall?.json });
    if (!r.ok) throw new Error(r.message);
    expect(r.value.space.groups).toEqual(['north', 'south', 'east', 'west']);
    expect(r.value.space.capacity).toBe(1000);
    const view = server.host.councilView(r.value.space.id);
    if (!view.ok) throw new Error(view.message);
    expect(view.value).toMatchObject({ council: { rules: { quorum: 'majority' } }, display: { mode: 'dissonance' }, settings: { template: 'town-hall', inputs: { heart: false } } });
    expect((view.value.proposals as { by: string; status: string }[]).map((p) => [p.by, p.status])).toEqual([
      ['steward', 'open'],
      ['steward', 'open'],
    ]);
    const entries = await (await fetch(`${server.url}/log/entries?start=${before}&end=${server.log?.size ?? 0}`)).text().catch(() => '');
    expect(server.log?.size).toBe(before + 6); // space.created, space.template, council.created, display.changed, 2 × policy.proposed
    expect(typeof entries).toBe('string');
  });

  it('[Q14] allowed inputs are enforced: a performance space refuses words', async () => {
    const perf = shippedTemplates().find((t) => t.name === 'performance');
    const r = await server.host.createSpace({ name: 'Concert', template: perf?.json });
    if (!r.ok) throw new Error(r.message);
    const ref = server.host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
    await server.host.join(ref, r.value.space.code, 'participant', true);
    expect(server.host.input(ref, { t: 'input', seq: 1, text: 'wow' } as never, false)).toMatchObject({ ok: false, code: 'BAD_REQUEST', message: 'this space does not take words inputs' });
    expect(server.host.input(ref, { t: 'input', seq: 1, valence: 0.5, arousal: 0.5, confidence: 1, source: 'tap' }, false)).toMatchObject({ ok: true });
  });

  it('[Q14] HTTP lists the shipped templates and refuses a bad one with the same code; the CLI creates from one', async () => {
    const list = (await (await fetch(`${server.url}/api/templates`)).json()) as { templates: { name: string }[] };
    expect(list.templates.map((t) => t.name)).toEqual(['festival', 'performance', 'reflective-gathering', 'sanctuary', 'town-hall']);
    const badPost = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', template: { name: 'x', colour: 1 } }) });
    expect(badPost.status).toBe(400);
    expect(((await badPost.json()) as { error: { code: string } }).error.code).toBe('TEMPLATE_INVALID');
    const c = captureIO();
    expect(await main(['space', 'create', 'Quiet', 'room', '--template', 'sanctuary', '--url', server.url, '--json'], c.io)).toBe(0);
    const made = JSON.parse(c.out()) as { code: string; capacity: number };
    expect(made.capacity).toBe(60);
    const council = (await (await fetch(`${server.url}/api/spaces/${made.code}/council`)).json()) as { settings: { template: string }; council: { rules: { prompts: string[] } } };
    expect(council.settings.template).toBe('sanctuary');
    expect(council.council.rules.prompts).toHaveLength(2);
    const bad = captureIO();
    expect(await main(['space', 'create', 'X', '--template', 'nope', '--url', server.url], bad.io)).toBe(2);
  });

  it('[Q14][ST1] the stories field (extendTemplateFields): checked naming the field; refused by the base table', () => {
    const base = { name: 'circle' };
    expect(checkSpaceTemplate({ ...base, stories: { enabled: true } })).toMatchObject({ ok: true, template: { stories: { enabled: true, moderation: 'pre' } } });
    expect(checkSpaceTemplate({ ...base, stories: {} })).toMatchObject({ ok: true, template: { stories: { enabled: true, moderation: 'pre' } } });
    expect(checkSpaceTemplate(base)).toMatchObject({ ok: true, template: { stories: null } });
    expect(checkSpaceTemplate({ ...base, stories: { moderation: 'later' } })).toMatchObject({ ok: false, problem: { code: 'TEMPLATE_INVALID', message: expect.stringContaining('stories.moderation') } });
    expect(checkSpaceTemplate({ ...base, stories: { enabled: 'yes' } })).toMatchObject({ ok: false, problem: { code: 'TEMPLATE_INVALID', message: expect.stringContaining('stories.enabled') } });
    expect(checkSpaceTemplate({ ...base, stories: { colour: 1 } })).toMatchObject({ ok: false, problem: { code: 'TEMPLATE_INVALID', message: expect.stringContaining('stories.colour') } });
    expect(checkSpaceTemplate({ ...base, stories: true })).toMatchObject({ ok: false, problem: { code: 'TEMPLATE_INVALID' } });
    expect(checkTemplate({ ...base, stories: {} }).ok).toBe(false);
  });

  it('[Q14][ST1][Q5] reflective-gathering: stories on (logged), the gathering display, and reflection prompts a policy shows to participants once the council adopts it', async () => {
    const scheduler = new ManualScheduler(Date.now());
    const governance = new MemoryGovernance();
    const s = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 3 }, { scheduler, governance });
    try {
      const tpl = shippedTemplates().find((t) => t.name === 'reflective-gathering');
      const made = await s.host.createSpace({ name: 'After the storm', template: tpl?.json });
      if (!made.ok) throw new Error(made.message);
      const { code, id } = made.value.space;
      const steward = made.value.stewardToken;
      expect(governance.acts.filter((a) => a.space === id).map((a) => a.type)).toEqual(['space.created', 'space.template', 'council.created', 'display.changed', 'policy.proposed', 'policy.proposed', 'policy.proposed', 'stories.settings']);
      expect(governance.acts.find((a) => a.space === id && a.type === 'stories.settings')?.payload).toEqual({ enabled: true, moderation: 'pre' });
      expect(governance.acts.find((a) => a.space === id && a.type === 'display.changed')?.payload).toMatchObject({ mode: 'stories' });
      expect(s.host.displayModeOf(id).mode).toBe('stories');
      const view = s.host.councilView(id);
      if (!view.ok) throw new Error(view.message);
      const council = view.value as unknown as { council: { rules: { prompts: string[]; quorum: number } }; proposals: { id: string; policy: { name: string } }[] };
      expect(council.council.rules.prompts).toHaveLength(3);
      // A participant may share a story at once (with its own consent), and it waits for the steward.
      const frames: string[] = [];
      const people: number[] = [];
      for (let i = 0; i < 3; i++) {
        const ref = s.host.attach({ send: (f) => i === 0 && frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: () => {}, welcomed: () => {} });
        const j = await s.host.join(ref, code, 'participant', true);
        if (!j.ok) throw new Error(j.message);
        people.push(ref);
      }
      await s.host.drain();
      const token = (frames.map((f) => JSON.parse(f)).find((m) => m.t === 'welcome') as { token: string }).token;
      expect((await s.host.myStories(code, token)).ok && (await s.host.myStories(code, token))).toMatchObject({ value: { enabled: true, moderation: 'pre' } });
      expect((await s.host.consentAgain(token, s.host.storyConsentVersion, 'stories')).ok).toBe(true);
      expect(await s.host.submitStory(code, token, { text: 'We stayed together through the night.', consent: true })).toMatchObject({ ok: true, value: { status: 'waiting' } });
      // The council (quorum 1) adopts the plain reflection policy; with the room present, it fires
      // and the released pulse every participant gets carries the approved prompt (Q8).
      const member = await s.host.addMember(code, steward, 'Ada');
      if (!member.ok) throw new Error(member.message);
      const proposal = council.proposals.find((p) => p.policy.name === 'a question to sit with');
      expect(await s.host.vote(code, member.value.memberToken, proposal?.id as string, 'yes')).toMatchObject({ ok: true, value: { status: 'adopted' } });
      for (const [i, ref] of people.entries()) s.host.input(ref, { t: 'input', seq: 1, valence: 0.1 + 0.05 * i, arousal: 0, confidence: 1, source: 'tap' }, false);
      for (let t = 0; t < 20; t++) {
        scheduler.advance(250);
        await s.host.drain();
      }
      const last = JSON.parse(new TextDecoder().decode(s.host.latestPulse(id) as Uint8Array)) as { feedback?: { mode: string; prompt?: string; policy: { name: string } | null } };
      expect(last.feedback).toMatchObject({ mode: 'reflect', prompt: 'What did you hear tonight that stays with you?', policy: { name: 'a question to sit with' } });
    } finally {
      await s.close();
    }
  });

  it('[Q14] attune space create NAME --template reflective-gathering', async () => {
    const c = captureIO();
    expect(await main(['space', 'create', 'Circle', '--template', 'reflective-gathering', '--url', server.url, '--json'], c.io)).toBe(0);
    const made = JSON.parse(c.out()) as { code: string; capacity: number };
    expect(made.capacity).toBe(200);
    const council = (await (await fetch(`${server.url}/api/spaces/${made.code}/council`)).json()) as { settings: { template: string }; display: { mode: string } };
    expect(council).toMatchObject({ settings: { template: 'reflective-gathering' }, display: { mode: 'stories' } });
    const space = await server.host.spaceByCode(made.code);
    expect(server.host.stateOf(space?.id as string)?.stories.settings).toEqual({ enabled: true, moderation: 'pre' });
  });
});
