/**
 * `attune audit <base-url>`: verifies a live attune transparency log from the outside (see
 * src/log/audit.ts for what is checked) and remembers the last good checkpoint in a state file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type AuditReport, type AuditState, auditLog } from '../../log/audit.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';

const HELP = `Usage: attune audit <base-url> --key <verifier-key> [--state FILE]

Audits an attune transparency log: verifies the signed checkpoint against the pinned key,
checks it is consistent with the last checkpoint this auditor verified (detecting rollbacks
and forks), downloads every tile and entry bundle, recomputes the Merkle tree and compares
roots. Prints a verdict with counts; exits 0 if everything verified, 1 on any failure (and
says exactly what failed), 2 on bad usage. The state file is updated only on success.

  <base-url>          the server (http://host:port, the log is under /log) or the log
                      prefix itself (a URL ending in /log)

Options:
  --key VKEY          pinned verifier key, name+hex8+base64 (from 'attune log key');
                      repeat during a key rotation; env ATTUNE_LOG_KEY
  --state FILE        where the last verified checkpoint is kept
                      (default ./.attune/audit-state.json)
  --json              print the report as JSON
  -h, --help          show this help
`;

interface StateFile {
  readonly version: 1;
  readonly logs: Record<string, AuditState>;
}

function readState(path: string): StateFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { version: 1, logs: {} };
  }
  const parsed = JSON.parse(text) as StateFile;
  if (parsed.version !== 1 || typeof parsed.logs !== 'object') throw new Error(`${path} is not an attune audit state file`);
  return parsed;
}

function writeState(path: string, state: StateFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The log prefix for a base URL: the URL itself if it ends in /log, else <url>/log. */
export function logPrefix(baseUrl: string): string {
  const u = baseUrl.replace(/\/+$/, '');
  return /\/log$/.test(u) ? u : `${u}/log`;
}

function render(r: AuditReport, prefix: string, statePath: string, saved: boolean): string {
  const lines: string[] = [];
  const c = r.counts;
  if (r.ok) lines.push(`attune audit: OK — ${prefix}`);
  else lines.push(`attune audit: FAILED — ${prefix}: ${r.failures[0]}`);
  for (const p of r.passed) lines.push(`  ✓ ${p}`);
  for (const f of r.failures) lines.push(`  ✗ ${f}`);
  const types = Object.entries(c.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  lines.push(`  counts: size ${c.size}${c.previousSize !== null ? ` (previously ${c.previousSize})` : ' (first audit)'}, ${c.entries} entries checked in ${c.bundles} bundles, ${c.tiles} tiles${types ? `; ${types}` : ''}`);
  if (r.evidence.length > 0) lines.push('  evidence (both signed checkpoints):', ...r.evidence.map((e) => e.replace(/^/gm, '    | ').trimEnd()));
  lines.push(saved ? `  state saved to ${statePath}` : `  state not updated (${statePath})`);
  return `${lines.join('\n')}\n`;
}

/** The `attune audit` command. */
export const command: Command = {
  summary: 'verify a live transparency log (signature, consistency, every entry and tile)',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { key: { type: 'string', multiple: true }, state: { type: 'string' }, json: { type: 'boolean' } },
    });
    const base = positionals[0];
    if (base === undefined || positionals.length > 1) throw new UsageError('expected one <base-url>');
    if (!/^https?:\/\//.test(base)) throw new UsageError('<base-url> must start with http:// or https://');
    const keys = values.key ?? (io.env.ATTUNE_LOG_KEY ? [io.env.ATTUNE_LOG_KEY] : []);
    if (keys.length === 0) throw new UsageError("a pinned verifier key is required: --key <name+hex8+base64> (see 'attune log key')");
    const statePath = resolve(io.cwd, values.state ?? '.attune/audit-state.json');
    let state: StateFile;
    try {
      state = readState(statePath);
    } catch (e) {
      io.stderr.write(`attune audit: ${(e as Error).message}\n`);
      return 1;
    }
    const origin = keys[0]?.split('+')[0] ?? '';
    const prefix = logPrefix(base);
    const report = await auditLog({
      prefix,
      verifierKeys: keys,
      previous: state.logs[origin] ?? null,
      fetch: (url) => fetch(url, { signal: AbortSignal.any([io.signal, AbortSignal.timeout(30_000)]) }),
    });
    let saved = false;
    if (report.ok && report.next !== null) {
      writeState(statePath, { version: 1, logs: { ...state.logs, [report.next.origin]: report.next } });
      saved = true;
    }
    if (values.json) io.stdout.write(`${JSON.stringify({ ...report, next: undefined, statePath, saved }, null, 2)}\n`);
    else (report.ok ? io.stdout : io.stderr).write(render(report, prefix, statePath, saved));
    return report.ok ? 0 : 1;
  },
};
