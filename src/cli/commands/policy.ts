/**
 * `attune policy check|test|propose|vote|retire|list`: council policies (SPEC §Q).
 * `check` and `test` work offline (a file; a recorded database); the others call a running server.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkPolicy } from '../../core/policy/checkPolicy.ts';
import { dryRun, textChart } from '../../core/policy/dryRun.ts';
import { recordedOptions } from '../../core/space/record.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { apiCall, apiErrorText, baseUrl, ServerUnreachable } from '../httpApi.ts';
import { RECORDED_DB_HELP, readRecordedSession } from '../recordedSession.ts';

const HELP = `Usage: attune policy <check|test|propose|vote|retire|list> [options]

A policy is JSON, the same in a file, the API and the council page:
  {"name": "calm when split", "when": "pulse.collective.dissonance > 0.5",
   "then": {"feedback": {"mode": "calm", "minutes": 5}}, "cooldownSeconds": 300,
   "reason": "the room is split; a calmer screen for a few minutes"}
'when' is a CEL expression over the released pulse (see SPEC §Q and docs/councils.md);
'then' is one action of the closed vocabulary, with bounds: feedback (mirror|calm|diversity|
reflect, 1–30 min), display (mode, smoothing 1–30 s, showCrowd; 1–30 min), pause (≤ 10 min),
notify (steward|council).

  attune policy check FILE [--group NAME]…
      Checks a policy offline; a refusal names its code and position. Exit 1 when refused.
  attune policy test FILE --db PATH|URL --space CODE [--json]
      Dry run: evaluates the policy over the space's recorded session, shows when it would
      have fired and a chart of the figures its expression reads. Nothing is logged.
  attune policy propose FILE --space CODE --token MEMBER_TOKEN [--amends POLICY_ID]
  attune policy vote PROPOSAL_ID yes|no --space CODE --token MEMBER_TOKEN
  attune policy retire POLICY_ID --space CODE --token STEWARD_OR_MEMBER_TOKEN
  attune policy list --space CODE

Options:
  --space CODE   the space's join code
  --token TOKEN  a council member token (env ATTUNE_MEMBER_TOKEN) or, to retire, the steward's
  --db PATH|URL  ${RECORDED_DB_HELP}
  --url URL      the server (env ATTUNE_URL, default http://127.0.0.1:8787)
  --json         print JSON
  -h, --help     show this help
`;

function readPolicy(io: CliIO, file: string | undefined): unknown {
  if (!file) throw new UsageError('which policy FILE?');
  const path = resolve(io.cwd, file);
  if (!existsSync(path)) throw new UsageError(`no file ${path}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new UsageError(`${file} is not JSON: ${(e as Error).message}`);
  }
}

function pointAt(io: CliIO, when: unknown, position: { start: number; end: number } | undefined): void {
  if (typeof when !== 'string' || !position) return;
  io.stderr.write(`  ${when}\n  ${' '.repeat(position.start)}${'^'.repeat(Math.max(1, Math.min(when.length, position.end) - position.start))}\n`);
}

export const command: Command = {
  summary: 'check, dry-run, propose, vote on and retire council policies',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { url: { type: 'string' }, token: { type: 'string' }, space: { type: 'string' }, db: { type: 'string' }, group: { type: 'string', multiple: true }, amends: { type: 'string' }, json: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    const [sub, ...rest] = positionals;
    const out = (s: string) => io.stdout.write(s);
    switch (sub) {
      case 'check': {
        const policy = readPolicy(io, rest[0]);
        const r = checkPolicy(policy, values.group ?? [], 10);
        if (!r.ok) {
          io.stderr.write(`attune policy check: ${r.problem.code}: ${r.problem.message}\n`);
          pointAt(io, (policy as { when?: unknown }).when, r.problem.position);
          return 1;
        }
        out(values.json ? `${JSON.stringify(r.spec, null, 2)}\n` : `ok: "${r.spec.name}" — when ${r.spec.when} → ${JSON.stringify(r.spec.then)}, cooldown ${r.spec.cooldownSeconds} s\n`);
        return 0;
      }
      case 'test': {
        const policy = readPolicy(io, rest[0]);
        if (!values.space) throw new UsageError('--space CODE is required');
        const session = await readRecordedSession('attune policy test', values.db, values.space, io);
        if (!session) return 2;
        const { space, events, inputs } = session;
        const options = recordedOptions(events);
        if (!options) {
          io.stderr.write(`attune policy test: space ${space.code} has no recorded start; nothing to replay\n`);
          return 2;
        }
        const r = dryRun(policy, { id: space.id, code: space.code, name: space.name, capacity: space.capacity, ttlMs: space.ttlMs, ...(space.groups?.length ? { groups: space.groups } : {}) }, options, events, inputs);
        if (!r.ok) {
          io.stderr.write(`attune policy test: ${r.problem.code}: ${r.problem.message}\n`);
          pointAt(io, (policy as { when?: unknown }).when, r.problem.position);
          return 1;
        }
        const rep = r.report;
        if (values.json) {
          out(`${JSON.stringify(rep, null, 2)}\n`);
          return 0;
        }
        const t = (ms: number) => new Date(ms).toISOString().slice(11, 19);
        out(`"${rep.policy.name}" over ${space.code}: ${rep.evaluated} released pulses evaluated${rep.from !== null && rep.to !== null ? ` (${t(rep.from)}–${t(rep.to)} UTC)` : ''}\n`);
        out(rep.fires.length === 0 ? '  it would never have fired\n' : `  it would have fired ${rep.fires.length}× (cooldown ${rep.policy.cooldownSeconds} s): ${rep.fires.map((f) => t(f.at)).join(', ')}\n`);
        if (rep.errors > 0) out(`  ${rep.errors} evaluations failed at run time (counted as false)\n`);
        for (const [path, series] of Object.entries(rep.series)) {
          out(`\n  ${path}\n`);
          for (const line of textChart(series, rep.fires)) out(`  ${line}\n`);
        }
        return 0;
      }
      case 'propose':
      case 'vote':
      case 'retire':
      case 'list': {
        if (!values.space) throw new UsageError('--space CODE is required');
        let base: string;
        try {
          base = baseUrl(io, values.url);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        const token = values.token ?? io.env.ATTUNE_MEMBER_TOKEN;
        const space = encodeURIComponent(values.space);
        const failed = (r: { json: unknown }) => {
          io.stderr.write(`attune policy ${sub}: ${apiErrorText(r.json)}\n`);
          return 1;
        };
        try {
          if (sub === 'propose') {
            const policy = readPolicy(io, rest[0]);
            const r = await apiCall(io, base, 'POST', `/api/spaces/${space}/council/proposals`, { policy, ...(values.amends ? { amends: values.amends } : {}) }, token);
            if (r.status !== 201) return failed(r);
            out(values.json ? `${JSON.stringify(r.json)}\n` : `Proposed: proposal ${r.json.proposal}, open until ${new Date(Number(r.json.expiresAt)).toISOString()}\n`);
            return 0;
          }
          if (sub === 'vote') {
            const [id, vote] = rest;
            if (!id || (vote !== 'yes' && vote !== 'no')) throw new UsageError('policy vote needs PROPOSAL_ID and yes or no');
            const r = await apiCall(io, base, 'POST', `/api/spaces/${space}/council/proposals/${encodeURIComponent(id)}/votes`, { vote }, token);
            if (r.status !== 200) return failed(r);
            out(values.json ? `${JSON.stringify(r.json)}\n` : `Voted ${vote} on ${id}: the proposal is ${r.json.status}\n`);
            return 0;
          }
          if (sub === 'retire') {
            const [id] = rest;
            if (!id) throw new UsageError('policy retire needs the POLICY_ID');
            const r = await apiCall(io, base, 'POST', `/api/spaces/${space}/policies/${encodeURIComponent(id)}/retire`, {}, token ?? io.env.ATTUNE_STEWARD_TOKEN);
            if (r.status !== 200) return failed(r);
            out(values.json ? `${JSON.stringify(r.json)}\n` : `Retired ${id}\n`);
            return 0;
          }
          const r = await apiCall(io, base, 'GET', `/api/spaces/${space}/council`);
          if (r.status !== 200) return failed(r);
          const policies = (r.json.policies ?? []) as { id: string; version: number; status: string; name: string; when: string; then: unknown; fired: number }[];
          if (values.json) out(`${JSON.stringify(policies, null, 2)}\n`);
          else if (policies.length === 0) out('no policies\n');
          else for (const p of policies) out(`${p.id} v${p.version} [${p.status}] "${p.name}" when ${p.when} → ${JSON.stringify(p.then)} (fired ${p.fired}×)\n`);
          return 0;
        } catch (e) {
          if (e instanceof ServerUnreachable) {
            io.stderr.write(`attune policy: ${e.message}\n`);
            return 1;
          }
          throw e;
        }
      }
      default:
        throw new UsageError(sub ? `unknown policy command '${sub}'` : 'which policy command? check, test, propose, vote, retire or list');
    }
  },
};
