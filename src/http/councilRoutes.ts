/**
 * Council, policy and feedback routes (SPEC §Q, Q13) under `/api/spaces`. They only
 * translate Request/Response ↔ host calls; every rule is the machine's (src/core/policy).
 *
 *   POST   /:code/council                          steward: create the council {rules?}
 *   GET    /:code/council                          public: rules, members' names, proposals and votes, policies, feedback in force, opt-out count (R1)
 *   POST   /:code/council/members                  steward: invite {name} → memberToken (shown once) and an invite link
 *   DELETE /:code/council/members/:member          steward: remove
 *   GET    /:code/council/me                       member: who this token is
 *   POST   /:code/council/proposals                member: {policy, amends?} or {rules}
 *   POST   /:code/council/proposals/:id/votes      member: {vote: "yes"|"no"}
 *   POST   /:code/policies/check                   public: check a policy (coded error with position, or ok)
 *   POST   /:code/policies/test                    steward or member: dry run over the recorded session
 *   POST   /:code/policies/:id/retire              steward or member
 *   GET    /:code/notifications?after=N            steward (all) or member (those to the council): what `notify` policies sent
 *   PUT    /:code/feedback                         steward: {mode, minutes?} (mirror = back to the room as it is)
 *   POST   /:code/feedback/opt-out                 participant (resume token): {optOut: bool}
 */
import { type Context, Hono } from 'hono';
import type { ErrorCode } from '../core/errors.ts';
import { httpStatusOf } from '../core/errors.ts';
import { FEEDBACK_MODES, type FeedbackMode } from '../core/policy/actions.ts';
import { checkPolicy } from '../core/policy/checkPolicy.ts';
import type { SpaceHost } from '../space/spaceHost.ts';
import type { SpaceRecord } from '../storage/port.ts';
import { bearer, readJsonBody } from './request.ts';

/** What the routes need. */
export interface CouncilRoutesOptions {
  readonly host: SpaceHost;
  /** The public base URL (for invite links). */
  readonly publicUrl: (c: Context) => string;
}

type SpaceLookup = (c: Context) => Promise<SpaceRecord | Response>;

/** A coded JSON error; `position` locates a policy expression problem (0-based, end exclusive). */
function problem(c: Context, code: ErrorCode, message: string, position?: { start: number; end: number }): Response {
  return c.json({ error: { code, message, ...(position ? { position } : {}) } }, httpStatusOf(code) as 400);
}

async function jsonBody(c: Context): Promise<Record<string, unknown> | Response> {
  const read = await readJsonBody(c);
  if (read instanceof Response) return read;
  const b = read.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return problem(c, 'BAD_REQUEST', 'body must be a JSON object');
  return b as Record<string, unknown>;
}

/** The council routes, built with the app's space lookup (which spends the join-guess budget, W13). */
export function createCouncilRoutes(o: CouncilRoutesOptions): (withSpace: SpaceLookup) => Hono {
  const host = o.host;
  return (withSpace) => {
    const app = new Hono();
    const answer = <T>(c: Context, r: { ok: true; value: T } | { ok: false; code: ErrorCode; message: string }, status = 200) => (r.ok ? c.json(r.value as object, status as 200) : problem(c, r.code, r.message));

    app.post('/:code/council', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      for (const k of Object.keys(body)) if (k !== 'rules') return problem(c, 'BAD_REQUEST', `${k} is not a field: {"rules"?: {...}}`);
      const r = await host.createCouncil(s.code, bearer(c), body.rules);
      if (!r.ok) return problem(c, r.code, r.message);
      return c.json({ ...r.value, councilUrl: `${o.publicUrl(c)}/c/${s.code}` }, 201);
    });

    app.get('/:code/council', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      c.header('cache-control', 'no-store');
      return answer(c, host.councilView(s.id));
    });

    app.post('/:code/council/members', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      const r = await host.addMember(s.code, bearer(c), body.name);
      if (!r.ok) return problem(c, r.code, r.message);
      // The token travels in the fragment: it never reaches a server log or a Referer.
      return c.json({ ...r.value, inviteUrl: `${o.publicUrl(c)}/c/${s.code}#member=${r.value.memberToken}` }, 201);
    });

    app.delete('/:code/council/members/:member', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const r = await host.removeMember(s.code, bearer(c), c.req.param('member'));
      return r.ok ? c.json({ removed: c.req.param('member') }) : problem(c, r.code, r.message);
    });

    app.get('/:code/council/me', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      return answer(c, await host.whoIs(s.code, bearer(c)));
    });

    app.post('/:code/council/proposals', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      for (const k of Object.keys(body)) if (!['policy', 'rules', 'amends'].includes(k)) return problem(c, 'BAD_REQUEST', `${k} is not a field: {"policy", "amends"?} or {"rules"}`);
      if ((body.policy === undefined) === (body.rules === undefined)) return problem(c, 'BAD_REQUEST', 'propose either a policy or new rules');
      if (body.amends !== undefined && typeof body.amends !== 'string') return problem(c, 'BAD_REQUEST', 'amends must be a policy id');
      if (body.policy !== undefined) {
        // The same check the machine makes, here for its position in the expression.
        const checked = checkPolicy(body.policy, s.groups ?? [], 10);
        if (!checked.ok) return problem(c, checked.problem.code, checked.problem.message, checked.problem.position);
      }
      const r = await host.propose(s.code, bearer(c), { policy: body.policy, rules: body.rules, amends: body.amends as string | undefined });
      return answer(c, r, 201);
    });

    app.post('/:code/council/proposals/:id/votes', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      if (body.vote !== 'yes' && body.vote !== 'no') return problem(c, 'BAD_REQUEST', 'vote must be "yes" or "no"');
      return answer(c, await host.vote(s.code, bearer(c), c.req.param('id'), body.vote));
    });

    app.post('/:code/policies/check', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      const checked = checkPolicy(body.policy ?? body, s.groups ?? [], host.councilPrompts(s.id));
      if (!checked.ok) return problem(c, checked.problem.code, checked.problem.message, checked.problem.position);
      return c.json({ ok: true, policy: checked.spec });
    });

    app.post('/:code/policies/test', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      const token = bearer(c);
      const steward = await host.authorise(s.code, token);
      if (!steward.ok && !(await host.whoIs(s.code, token)).ok) return problem(c, 'UNAUTHORIZED', 'the steward token or a council member token is required');
      const policy = body.policy ?? body;
      const checked = checkPolicy(policy, s.groups ?? [], 10);
      if (!checked.ok) return problem(c, checked.problem.code, checked.problem.message, checked.problem.position);
      return answer(c, await host.dryRun(s.code, policy));
    });

    app.post('/:code/policies/:id/retire', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const r = await host.retirePolicy(s.code, bearer(c), c.req.param('id'));
      return r.ok ? c.json({ retired: c.req.param('id') }) : problem(c, r.code, r.message);
    });

    app.get('/:code/notifications', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const raw = c.req.query('after');
      const after = raw === undefined || raw === '' ? 0 : Number(raw);
      if (!Number.isInteger(after) || after < 0) return problem(c, 'BAD_REQUEST', 'after must be a notification number (an integer ≥ 0)');
      c.header('cache-control', 'no-store');
      return answer(c, await host.notifications(s.code, bearer(c), after));
    });

    app.put('/:code/feedback', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      if (typeof body.mode !== 'string' || !(FEEDBACK_MODES as readonly string[]).includes(body.mode)) return problem(c, 'BAD_REQUEST', `mode must be one of ${FEEDBACK_MODES.join(', ')}`);
      if (body.mode === 'reflect') return problem(c, 'BAD_REQUEST', 'reflect is set by a council policy with an approved prompt');
      const minutes = body.minutes === undefined || body.minutes === null ? null : body.minutes;
      if (minutes !== null && typeof minutes !== 'number') return problem(c, 'BAD_REQUEST', 'minutes must be a number in [1, 30], or absent');
      const r = await host.setFeedback(s.code, bearer(c), body.mode as FeedbackMode, minutes);
      return r.ok ? answer(c, host.councilView(s.id)) : problem(c, r.code, r.message);
    });

    app.post('/:code/feedback/opt-out', async (c) => {
      const s = await withSpace(c);
      if (s instanceof Response) return s;
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      if (typeof body.optOut !== 'boolean') return problem(c, 'BAD_REQUEST', 'optOut must be true or false');
      return answer(c, await host.optOut(bearer(c), body.optOut));
    });

    return app;
  };
}
