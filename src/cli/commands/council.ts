/**
 * `attune council create|invite|remove|show|notifications`: a space's council (SPEC §Q) on a running server.
 */
import { parseArgs } from 'node:util';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { apiCall, apiErrorText, baseUrl, ServerUnreachable } from '../httpApi.ts';

const HELP = `Usage: attune council <create|invite|remove|show|notifications> CODE [options]

A council responds to the room only through policies it adopts in the open (SPEC §Q). Every
step is an act on the public log before it takes effect.

  attune council create CODE [--quorum majority|N] [--lifetime SECONDS] [--prompt TEXT]…
      The steward creates the space's council: the quorum (default: a majority of the
      members), how long a proposal stays open (default 3600 s) and the reflection prompts
      it approves for 'reflect' feedback.
  attune council invite CODE NAME
      The steward invites a member; prints the member token (shown once, stored only as a
      hash) and the invite link for the council page /c/CODE.
  attune council remove CODE MEMBER_ID
      The steward removes a member.
  attune council show CODE
      The council's public view: rules, members, proposals and votes, policies, the feedback
      in force and the opt-out count (shown only at or above the minimum cohort).
  attune council notifications CODE [--after N]
      What the council's notify policies sent: every notification with the steward token,
      those addressed to the council with a member token; only those numbered above N.

Options:
  --token TOKEN   the steward token (env ATTUNE_STEWARD_TOKEN), or a member token for
                  notifications
  --after N       notifications: only those numbered above N (default 0)
  --url URL       the server (env ATTUNE_URL, default http://127.0.0.1:8787)
  --json          print the server's JSON
  -h, --help      show this help
`;

export const command: Command = {
  summary: "create a space's council, invite or remove members, show it, read its notifications",
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { url: { type: 'string' }, token: { type: 'string' }, quorum: { type: 'string' }, lifetime: { type: 'string' }, prompt: { type: 'string', multiple: true }, after: { type: 'string' }, json: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    const [sub, code, ...rest] = positionals;
    if (!sub) throw new UsageError('which council command? create, invite, remove, show or notifications');
    if (!code) throw new UsageError(`council ${sub} needs the space's CODE`);
    let base: string;
    try {
      base = baseUrl(io, values.url);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const token = values.token ?? io.env.ATTUNE_STEWARD_TOKEN;
    const out = (s: string) => io.stdout.write(s);
    const failed = (r: { json: unknown }) => {
      io.stderr.write(`attune council ${sub}: ${apiErrorText(r.json)}\n`);
      return 1;
    };
    try {
      switch (sub) {
        case 'create': {
          if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
          const rules: Record<string, unknown> = {};
          if (values.quorum !== undefined) rules.quorum = values.quorum === 'majority' ? 'majority' : /^\d+$/.test(values.quorum) ? Number(values.quorum) : values.quorum;
          if (values.lifetime !== undefined) {
            if (!/^\d+$/.test(values.lifetime)) throw new UsageError(`--lifetime must be whole seconds, got '${values.lifetime}'`);
            rules.proposalSeconds = Number(values.lifetime);
          }
          if (values.prompt?.length) rules.prompts = values.prompt;
          const r = await apiCall(io, base, 'POST', `/api/spaces/${encodeURIComponent(code)}/council`, { rules }, token);
          if (r.status !== 201) return failed(r);
          if (values.json) out(`${JSON.stringify(r.json, null, 2)}\n`);
          else out(`Council ${r.json.council} created for ${code}\n  council page: ${r.json.councilUrl}\n  rules: ${JSON.stringify(r.json.rules)}\n`);
          return 0;
        }
        case 'invite': {
          const name = rest.join(' ').trim();
          if (!name) throw new UsageError('council invite needs the member’s NAME (public on the log)');
          const r = await apiCall(io, base, 'POST', `/api/spaces/${encodeURIComponent(code)}/council/members`, { name }, token);
          if (r.status !== 201) return failed(r);
          if (values.json) out(`${JSON.stringify(r.json, null, 2)}\n`);
          else out(`Invited ${r.json.name} (member ${r.json.member})\n  invite link:  ${r.json.inviteUrl}\n  member token: ${r.json.memberToken}  (shown once; give it only to them)\n`);
          return 0;
        }
        case 'remove': {
          const [member] = rest;
          if (!member) throw new UsageError('council remove needs the MEMBER_ID');
          const r = await apiCall(io, base, 'DELETE', `/api/spaces/${encodeURIComponent(code)}/council/members/${encodeURIComponent(member)}`, undefined, token);
          if (r.status !== 200) return failed(r);
          out(values.json ? `${JSON.stringify(r.json)}\n` : `Removed member ${member}\n`);
          return 0;
        }
        case 'show': {
          const r = await apiCall(io, base, 'GET', `/api/spaces/${encodeURIComponent(code)}/council`);
          if (r.status !== 200) return failed(r);
          if (values.json) {
            out(`${JSON.stringify(r.json, null, 2)}\n`);
            return 0;
          }
          const v = r.json as { council: { rules: Record<string, unknown>; needed: number } | null; members: { id: string; name: string }[]; proposals: { id: string; kind: string; status: string; yes: number; no: number; policy?: { name: string } }[]; policies: { id: string; version: number; status: string; name: string; when: string; fired: number }[]; feedback: { mode: string; policy: { name: string } | null; reason: string }; optOuts: number | null };
          if (!v.council) {
            out(`Space ${code} has no council.\n`);
            return 0;
          }
          out(`Council of ${code}: ${JSON.stringify(v.council.rules)} — ${v.council.needed} yes vote(s) adopt\n`);
          out(`  members: ${v.members.map((m) => `${m.name} (${m.id})`).join(', ') || 'none'}\n`);
          for (const p of v.proposals) out(`  proposal ${p.id} [${p.kind}, ${p.status}] yes ${p.yes} / no ${p.no}${p.policy ? ` — ${p.policy.name}` : ''}\n`);
          for (const p of v.policies) out(`  policy ${p.id} v${p.version} [${p.status}] "${p.name}" when ${p.when} — fired ${p.fired}×\n`);
          out(`  feedback now: ${v.feedback.mode}${v.feedback.policy ? ` (policy "${v.feedback.policy.name}": ${v.feedback.reason})` : ''}\n`);
          out(`  opted out of adaptive feedback: ${v.optOuts ?? 'fewer than the minimum cohort'}\n`);
          return 0;
        }
        case 'notifications': {
          if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
          const after = values.after ?? '0';
          if (!/^\d+$/.test(after)) throw new UsageError(`--after must be a notification number, got '${after}'`);
          const r = await apiCall(io, base, 'GET', `/api/spaces/${encodeURIComponent(code)}/notifications?after=${after}`, undefined, token);
          if (r.status !== 200) return failed(r);
          if (values.json) {
            out(`${JSON.stringify(r.json, null, 2)}\n`);
            return 0;
          }
          const v = r.json as { audience: string; latest: number; notifications: { n: number; at: number; audience: string; message: string; policy: { name: string; version: number }; entry: number | null }[] };
          out(`${v.notifications.length} notification(s) for the ${v.audience} (latest #${v.latest})\n`);
          for (const x of v.notifications) out(`  #${x.n} ${new Date(x.at).toISOString()} to the ${x.audience}: ${x.message} — policy "${x.policy.name}" v${x.policy.version}${x.entry !== null ? `, log entry ${x.entry}` : ''}\n`);
          return 0;
        }
        default:
          throw new UsageError(`unknown council command '${sub}'`);
      }
    } catch (e) {
      if (e instanceof ServerUnreachable) {
        io.stderr.write(`attune council: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
