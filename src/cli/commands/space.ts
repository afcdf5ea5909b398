/**
 * `attune space create|list|close`: manage spaces on a running server over its HTTP API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import QRCode from 'qrcode';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { apiCall as call, apiErrorText as errorText, ServerUnreachable } from '../httpApi.ts';
import { checkSpaceTemplate } from '../../core/templates/spaceTemplateFields.ts';
import { readTemplate, shippedTemplates } from '../../server/templates.ts';

const HELP = `Usage: attune space <create|list|close> [options]

Manages spaces on a running attune server (see 'attune serve').

  attune space create NAME [--capacity N] [--ttl SECONDS] [--retention DAYS] [--group NAME]… [--template NAME|FILE]
      Creates a space (each --group declares one of up to 8 named groups a participant
      may choose at join; their pulses are shown per group, SPEC R6); prints its join code, join/display/steward links, the steward
      token (keep it secret: it closes the space) and the join QR code. --template sets the
      space up from a shipped template (performance, sanctuary, town-hall, festival,
      reflective-gathering) or your own JSON file: allowed inputs, grid words, display mode,
      groups, capacity, TTL, retention, a council and the policies it proposes, stories on or
      off (SPEC Q14, docs/templates.md); checked before it is sent. --retention: how many days
      raw data about the space's people is kept after it closes (default: the server's
      --retention, 30 days; PRIVACY.md).
  attune space list [--admin-token TOKEN]
      Lists every space (needs the server's admin token: --admin-token, env
      ATTUNE_ADMIN_TOKEN, or the file admin-token beside the database, ./data/admin-token).
  attune space close CODE [--token STEWARD_TOKEN]
      Closes a space (needs its steward token: --token or env ATTUNE_STEWARD_TOKEN).
  attune space link CODE --with OTHER [--unlink] [--token STEWARD_TOKEN]
      Agrees (or, with --unlink, stops agreeing) to link CODE with the space OTHER; two
      spaces are linked once both stewards agree (logged on the public log), and then
      /compare?spaces=CODE,OTHER shows them side by side.

Options:
  --url URL           the server (env ATTUNE_URL, default http://127.0.0.1:8787)
  --json              print the server's JSON instead of text
  -h, --help          show this help
`;

export const command: Command = {
  summary: 'create, list or close spaces on a running server',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        capacity: { type: 'string' },
        ttl: { type: 'string' },
        retention: { type: 'string' },
        group: { type: 'string', multiple: true },
        template: { type: 'string' },
        with: { type: 'string' },
        unlink: { type: 'boolean', default: false },
        token: { type: 'string' },
        'admin-token': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    const [sub, ...rest] = positionals;
    const base = (values.url ?? io.env.ATTUNE_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
    if (!/^https?:\/\//.test(base)) throw new UsageError(`--url must be an http(s) URL, got '${base}'`);
    const out = (s: string) => io.stdout.write(s);
    try {
      switch (sub) {
        case 'create': {
          const name = rest.join(' ').trim();
          if (!name) throw new UsageError('space create needs a NAME');
          const body: Record<string, unknown> = { name, ...(values.group?.length ? { groups: values.group } : {}) };
          if (values.template !== undefined) {
            let json: unknown;
            try {
              json = readTemplate(values.template, io.cwd);
            } catch (e) {
              io.stderr.write(`attune space create: ${values.template} is not JSON: ${(e as Error).message}\n`);
              return 1;
            }
            if (json === null) throw new UsageError(`--template: no shipped template or file named '${values.template}' (shipped: ${shippedTemplates().map((t) => t.name).join(', ')})`);
            const checked = checkSpaceTemplate(json);
            if (!checked.ok) {
              io.stderr.write(`attune space create: ${checked.problem.code}: template: ${checked.problem.message}\n`);
              return 1;
            }
            body.template = json;
          }
          for (const [flag, key] of [
            ['capacity', 'capacity'],
            ['ttl', 'ttlSeconds'],
            ['retention', 'retentionDays'],
          ] as const) {
            const raw = values[flag];
            if (raw === undefined) continue;
            if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} must be a whole number, got '${raw}'`);
            body[key] = Number(raw);
          }
          const r = await call(io, base, 'POST', '/api/spaces', body);
          if (r.status !== 201) {
            io.stderr.write(`attune space create: ${errorText(r.json)}\n`);
            return 1;
          }
          const s = r.json as Record<string, string>;
          if (values.json) {
            out(`${JSON.stringify(s, null, 2)}\n`);
            return 0;
          }
          out(`Created "${s.name}" — join code ${s.code}\n`);
          out(`  join:          ${s.joinUrl}\n  display:       ${s.displayUrl}\n  steward:       ${s.stewardUrl}#token=${s.stewardToken}\n`);
          out(`  steward token: ${s.stewardToken}  (keep it secret)\n\n`);
          out(await QRCode.toString(s.joinUrl as string, { type: 'terminal', small: true }));
          return 0;
        }
        case 'list': {
          if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
          let token = values['admin-token'] ?? io.env.ATTUNE_ADMIN_TOKEN;
          const file = resolve(io.cwd, 'data', 'admin-token');
          if (!token && existsSync(file)) token = readFileSync(file, 'utf8').trim();
          if (!token) throw new UsageError('space list needs the admin token: --admin-token, ATTUNE_ADMIN_TOKEN, or ./data/admin-token');
          const r = await call(io, base, 'GET', '/api/spaces', undefined, token);
          if (r.status !== 200) {
            io.stderr.write(`attune space list: ${errorText(r.json)}\n`);
            return 1;
          }
          const spaces = (r.json as { spaces: Record<string, unknown>[] }).spaces;
          if (values.json) {
            out(`${JSON.stringify(spaces, null, 2)}\n`);
            return 0;
          }
          if (spaces.length === 0) {
            out('No spaces yet. Create one with: attune space create NAME\n');
            return 0;
          }
          out(`${'CODE'.padEnd(10)}${'STATUS'.padEnd(8)}${'PRESENT'.padStart(8)}  ${'CAPACITY'.padStart(8)}  NAME\n`);
          for (const s of spaces) out(`${String(s.code).padEnd(10)}${String(s.status).padEnd(8)}${String(s.present).padStart(8)}  ${String(s.capacity).padStart(8)}  ${String(s.name)}\n`);
          return 0;
        }
        case 'close': {
          const [code, extra] = rest;
          if (!code) throw new UsageError('space close needs a CODE');
          if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
          const token = values.token ?? io.env.ATTUNE_STEWARD_TOKEN;
          if (!token) throw new UsageError('space close needs the steward token: --token or ATTUNE_STEWARD_TOKEN');
          const r = await call(io, base, 'POST', `/api/spaces/${encodeURIComponent(code)}/close`, undefined, token);
          if (r.status !== 200) {
            io.stderr.write(`attune space close: ${errorText(r.json)}\n`);
            return 1;
          }
          out(values.json ? `${JSON.stringify(r.json, null, 2)}\n` : `Closed ${code}. Everyone connected was told; no new joins or inputs.\n`);
          return 0;
        }
        case 'link': {
          const [code, extra] = rest;
          if (!code || !values.with) throw new UsageError('space link needs a CODE and --with OTHER');
          if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
          const token = values.token ?? io.env.ATTUNE_STEWARD_TOKEN;
          if (!token) throw new UsageError('space link needs the steward token: --token or ATTUNE_STEWARD_TOKEN');
          const r = await call(io, base, 'POST', `/api/spaces/${encodeURIComponent(code)}/links`, { with: values.with, agree: !values.unlink }, token);
          if (r.status !== 200) {
            io.stderr.write(`attune space link: ${errorText(r.json)}\n`);
            return 1;
          }
          const j = r.json as { linked: boolean; with: string };
          if (values.json) out(`${JSON.stringify(j, null, 2)}\n`);
          else if (values.unlink) out(`${code} no longer agrees to be linked with ${j.with} (logged).\n`);
          else out(j.linked ? `${code} and ${j.with} are linked: ${base}/compare?spaces=${code},${j.with}\n` : `${code} agrees to be linked with ${j.with} (logged); waiting for ${j.with}'s steward.\n`);
          return 0;
        }
        case undefined:
          throw new UsageError('missing sub-command: create, list, close or link');
        default:
          throw new UsageError(`unknown sub-command '${sub}': use create, list, close or link`);
      }
    } catch (e) {
      if (e instanceof ServerUnreachable) {
        io.stderr.write(`attune space: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
