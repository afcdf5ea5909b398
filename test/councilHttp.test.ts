/**
 * The council, policy and feedback routes (SPEC Q13) on a whole server (in-memory storage,
 * the real transparency log): coded errors with positions, the lifecycle over HTTP, the display
 * mode as a logged act, and the dry run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { policyJson } from '../src/core/policy/policyJson.ts';

let server: RunningServer;

beforeEach(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1 });
});

afterEach(async () => {
  await server.close();
});

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

async function councilSpace() {
  const made = await call('POST', '/api/spaces', { name: 'Town hall' });
  const code = String(made.json.code);
  const steward = String(made.json.stewardToken);
  const c = await call('POST', `/api/spaces/${code}/council`, { rules: { quorum: 2 } }, steward);
  expect(c.status).toBe(201);
  const a = await call('POST', `/api/spaces/${code}/council/members`, { name: 'Ada' }, steward);
  const b = await call('POST', `/api/spaces/${code}/council/members`, { name: 'Bo' }, steward);
  expect(a.status).toBe(201);
  expect(String(a.json.inviteUrl)).toContain(`/c/${code}#member=`);
  return { code, steward, a: String(a.json.memberToken), b: String(b.json.memberToken) };
}

describe('council HTTP API', () => {
  it('[Q13][Q3] a policy with an unknown field is refused with its code and position; regex, size and type too', async () => {
    const { code, a } = await councilSpace();
    const unknown = await call('POST', `/api/spaces/${code}/council/proposals`, { policy: policyJson({ name: 'x', when: 'pulse.mean.valense < 0.0', action: { feedback: { mode: 'calm', minutes: 5 } } }) }, a);
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'POLICY_UNKNOWN_FIELD', position: { start: expect.any(Number) } });
    const regex = await call('POST', `/api/spaces/${code}/policies/check`, { policy: policyJson({ name: 'x', when: '"a".matches("a+")', action: { feedback: { mode: 'calm', minutes: 5 } } }) });
    expect(regex.json.error).toMatchObject({ code: 'POLICY_REGEX', position: { start: 0 } });
    const big = await call('POST', `/api/spaces/${code}/policies/check`, { policy: policyJson({ name: 'x', when: `pulse.count > 1.0${' || pulse.count > 1.0'.repeat(110)}`, action: { feedback: { mode: 'calm', minutes: 5 } } }) });
    expect(big.json.error).toMatchObject({ code: 'POLICY_TOO_LARGE' });
    const notBool = await call('POST', `/api/spaces/${code}/policies/check`, { policy: policyJson({ name: 'x', when: 'pulse.count + 1.0', action: { feedback: { mode: 'calm', minutes: 5 } } }) });
    expect(notBool.json.error).toMatchObject({ code: 'POLICY_NOT_BOOL' });
    const ok = await call('POST', `/api/spaces/${code}/policies/check`, { policy: policyJson({ name: 'x', when: 'pulse.count > 1.0', action: { feedback: { mode: 'calm', minutes: 5 } } }) });
    expect(ok.json).toMatchObject({ ok: true, policy: { cooldownSeconds: 300 } });
  });

  it('[Q13][Q2] propose, vote to quorum, see it active on the public council view, retire; the log holds each act', async () => {
    const { code, a, b, steward } = await councilSpace();
    const p = await call('POST', `/api/spaces/${code}/council/proposals`, { policy: policyJson({ name: 'calm when split', when: 'pulse.collective.dissonance > 0.5', action: { feedback: { mode: 'calm', minutes: 5 } }, cooldownSeconds: 300 }) }, a);
    expect(p.status).toBe(201);
    const id = String(p.json.proposal);
    expect((await call('POST', `/api/spaces/${code}/council/proposals/${id}/votes`, { vote: 'yes' }, a)).json).toMatchObject({ status: 'open' });
    expect((await call('POST', `/api/spaces/${code}/council/proposals/${id}/votes`, { vote: 'yes' }, steward)).status).toBe(401);
    expect((await call('POST', `/api/spaces/${code}/council/proposals/${id}/votes`, { vote: 'yes' }, b)).json).toMatchObject({ status: 'adopted' });
    const view = await call('GET', `/api/spaces/${code}/council`);
    expect(view.json).toMatchObject({ council: { rules: { quorum: 2 } }, members: [{ name: 'Ada' }, { name: 'Bo' }], policies: [{ id, status: 'active', name: 'calm when split' }], feedback: { mode: 'mirror' }, optOuts: 0 });
    expect(JSON.stringify(view.json)).not.toContain('tokenHash');
    expect((await call('POST', `/api/spaces/${code}/policies/${id}/retire`, {}, steward)).status).toBe(200);
    const entries = server.log?.size ?? 0;
    expect(entries).toBeGreaterThanOrEqual(9);
  });

  it('[Q13][Q9] the display mode is set by a logged act; without a steward token it is refused', async () => {
    const made = await call('POST', '/api/spaces', { name: 'Stage' });
    const code = String(made.json.code);
    expect((await call('PUT', `/api/spaces/${code}/display-mode`, { mode: 'kaleidoscope' }, 'wrong')).status).toBe(401);
    const before = server.log?.size ?? 0;
    const r = await call('PUT', `/api/spaces/${code}/display-mode`, { mode: 'kaleidoscope' }, String(made.json.stewardToken));
    expect(r.json).toMatchObject({ mode: 'kaleidoscope', by: 'steward' });
    expect(server.log?.size ?? 0).toBe(before + 1);
    expect((await call('GET', `/api/spaces/${code}/display-mode`)).json).toMatchObject({ mode: 'kaleidoscope' });
  });

  it('[Q13][Q11a] the dry run needs a steward or member token and reports what it evaluated', async () => {
    const { code, a } = await councilSpace();
    const policy = policyJson({ name: 'x', when: 'pulse.count >= 0.0', action: { feedback: { mode: 'calm', minutes: 5 } } });
    expect((await call('POST', `/api/spaces/${code}/policies/test`, { policy })).status).toBe(401);
    const r = await call('POST', `/api/spaces/${code}/policies/test`, { policy }, a);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ policy: { name: 'x' }, fires: expect.any(Array), series: expect.any(Object) });
  });
});
