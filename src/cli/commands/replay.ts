/**
 * `attune replay`: folds a recorded session (SPEC M6–M8) through the space machine and compares
 * every pulse it publishes with the hash recorded when it was published.
 */
import { parseArgs } from 'node:util';
import { recordedOptions, replay } from '../../core/space/record.ts';
import { hashPulse } from '../../space/spaceHost.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { RECORDED_DB_HELP, readRecordedSession } from '../recordedSession.ts';

const HELP = `Usage: attune replay --db PATH|URL --space CODE [--json]

Replays a recorded space: every event the space's state depended on (joins, resumes, inputs,
leaves, disconnects, ticks, governance acts) is read back from the database in the order the
space machine stepped it, folded through the same machine, and every pulse it publishes is
compared with the hash of the pulse that was published at the time.

It also re-derives every decision the machine took itself — each council policy.fired, each
policy.adopted once a vote reached the quorum, each policy.expired (a proposal whose lifetime
ended without its quorum) and each feedback.changed on expiry (SPEC Q11) —
and compares them, bit for bit and in order, with the decisions that were recorded.

Prints "replayed N pulses: N identical, 0 differ" (and, when the session has any decisions,
"re-derived N decisions: N identical,
0 differ"), and exits 0 when the replay reproduces the session; exits 1 when any pulse or
decision differs, and 2 on bad arguments.

Options:
  --db PATH|URL  ${RECORDED_DB_HELP}
  --space CODE   the space's join code (case and separators do not matter)
  --json         print the whole report as JSON
  -h, --help     show this help
`;


export const command: Command = {
  summary: 'replay a recorded space and check every published pulse',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { db: { type: 'string' }, space: { type: 'string' }, json: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.space) throw new UsageError('--space CODE is required');
    const session = await readRecordedSession('attune replay', values.db, values.space, io);
    if (!session) return 2;
    const { space, events, inputs } = session;
    const options = recordedOptions(events);
    if (!options) {
      io.stderr.write(`attune replay: space ${space.code} has no recorded start (it was recorded before this version of attune); nothing to replay\n`);
      return 2;
    }
    io.stderr.write(`attune replay: ${events.length} events and ${inputs.length} inputs of space ${space.code}…\n`);
    const settings = { id: space.id, code: space.code, name: space.name, capacity: space.capacity, ttlMs: space.ttlMs, ...(space.groups?.length ? { groups: space.groups } : {}), ...(session.noiseSeed ? { noiseSeed: session.noiseSeed } : {}) };
    const report = replay(settings, options, events, inputs, hashPulse);
    if (values.json) io.stdout.write(`${JSON.stringify({ space: space.code, ...report }, null, 2)}\n`);
    else {
      io.stdout.write(`replayed ${report.pulses} pulses: ${report.identical} identical, ${report.differ} differ\n`);
      for (const d of report.differences) io.stdout.write(`  differs at event ${d.n} (pulse seq ${d.seq}): recorded ${d.recorded ?? 'none'}, replayed ${d.replayed}\n`);
      if (report.gaps.length > 0) io.stdout.write(`  events missing from the record before n = ${report.gaps.join(', ')}\n`);
      if (report.unexpected > 0) io.stdout.write(`  ${report.unexpected} recorded events changed nothing when replayed\n`);
      const d = report.decisions;
      if (d.recorded > 0 || d.rederived > 0) io.stdout.write(`re-derived ${d.rederived} decisions (${d.recorded} recorded): ${d.identical} identical, ${Math.max(d.recorded, d.rederived) - d.identical} differ\n`);
      for (const x of d.differences) io.stdout.write(`  decision ${x.index + 1} differs:\n    recorded   ${x.recorded ?? 'none'}\n    re-derived ${x.rederived ?? 'none'}\n`);
      if (report.configChanges.length > 0) io.stdout.write(`  the server restarted with other settings at n = ${report.configChanges.join(', ')}; pulses after that are replayed with the first settings\n`);
    }
    return report.differ === 0 && report.unexpected === 0 && report.decisions.differences.length === 0 ? 0 : 1;
  },
};
