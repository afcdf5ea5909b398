/**
 * `attune play`: rehearse without a crowd. Plays a recorded session (SPEC M6) — from a
 * database, or a simulator scenario recorded on the spot (`--demo surge`) — into a new
 * rehearsal space on a server of its own, whose clock runs `--speed` times faster from the
 * recording's start. The recorded joins, inputs and leaves are stepped into the new space's
 * machine at their recorded times, so its displays (every mode), OSC, SSE and webhooks follow it
 * exactly as a live room, and its pulses are the recorded ones (src/space/rehearse.ts).
 */
import { parseArgs } from 'node:util';
import { parseOscTarget } from '../../feeds/osc/oscFeed.ts';
import { planOf, type RecordedSession, rehearse } from '../../space/rehearse.ts';
import { readRecordedSession } from '../recordedSession.ts';
import { createServer } from '../../server/createServer.ts';
import { recordDemoSession } from '../../server/demoSession.ts';
import { SCENARIOS, type ScenarioName } from '../../sim/scenarios.ts';
import { ScaledScheduler } from '../../space/scaledScheduler.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { buildWebIfNeeded } from './serve.ts';

const HELP = `Usage: attune play (--db PATH|URL --space CODE | --demo SCENARIO) [--speed N] [--osc HOST:PORT]...
                   [--serve] [--host H] [--port P] [--no-build]

Plays a recorded session into a new "rehearsal" space on a server it starts (--serve, the
default), in real time or faster: displays (/d/CODE?mode=threads …), OSC, the SSE stream and
webhooks follow it exactly as they follow a live room. Prints the rehearsal's links, then how
far it has played; keeps serving after the end until Ctrl-C.

Options:
  --db PATH|URL     the database a server recorded the session in: a SQLite file or a
                    postgres:// URL (env ATTUNE_DB, default ./data/attune.db)
  --space CODE      the recorded space's join code
  --demo SCENARIO   instead, record a simulated room now and play it: ${SCENARIOS.join(', ')}
  --people N        people in a demo (default 120)
  --minutes M       length of a demo (default 3)
  --speed N         play N times faster (default 1; the server's clock runs N× — TTLs,
                    smoothing and the display rate keep their proportions)
  --osc HOST:PORT   also send the pulses as OSC bundles there (repeat for several)
  --serve           run the rehearsal server (the default; playing into another running
                    server is not supported yet)
  --host HOST       address to listen on (default 127.0.0.1)
  --port PORT       port (default 8788; 0 picks a free one)
  --no-build        do not build the web app
  -h, --help        show this help
`;

function positive(name: string, raw: string | undefined, lo: number, hi: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new UsageError(`--${name} must be a number in [${lo}, ${hi}], got '${raw}'`);
  return n;
}

export const command: Command = {
  summary: 'play a recorded (or demo) session into a rehearsal space, for displays and feeds',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        db: { type: 'string' },
        space: { type: 'string' },
        demo: { type: 'string' },
        people: { type: 'string' },
        minutes: { type: 'string' },
        speed: { type: 'string' },
        osc: { type: 'string', multiple: true },
        serve: { type: 'boolean', default: true },
        host: { type: 'string' },
        port: { type: 'string' },
        'no-build': { type: 'boolean', default: false },
      },
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.serve) {
      io.stderr.write('attune play: playing into an already running server is not supported yet; it needs the host to open a rehearsal space (see docs/living-art.md). Run with --serve.\n');
      return 2;
    }
    if (!values.demo === !values.space) throw new UsageError('give either --db PATH --space CODE or --demo SCENARIO');
    const speed = positive('speed', values.speed, 0.1, 100) ?? 1;
    const port = positive('port', values.port, 0, 65535) ?? 8788;
    const osc = values.osc ?? [];
    for (const spec of osc) if (typeof parseOscTarget(spec) === 'string') throw new UsageError(`--osc: ${parseOscTarget(spec)}`);

    let session: RecordedSession | null;
    if (values.demo) {
      if (!(SCENARIOS as readonly string[]).includes(values.demo)) throw new UsageError(`--demo must be one of ${SCENARIOS.join(', ')}`);
      const people = positive('people', values.people, 3, 20_000) ?? 120;
      const minutes = positive('minutes', values.minutes, 0.5, 120) ?? 3;
      io.stderr.write(`attune play: recording the ${values.demo} scenario with ${people} simulated people for ${minutes} min…\n`);
      session = await recordDemoSession({ scenario: values.demo as ScenarioName, participants: people, durationMs: minutes * 60_000, epoch: Date.now() - minutes * 60_000 });
    } else {
      session = await readRecordedSession('attune play', values.db, values.space ?? '', io);
      if (!session) return 2;
    }
    const plan = planOf(session);
    if (!values['no-build']) await buildWebIfNeeded(io);
    const scheduler = new ScaledScheduler(plan.startAt, speed);
    const server = await createServer({ host: values.host ?? '127.0.0.1', port, dbPath: ':memory:', capacity: Math.max(1000, session.space.capacity), ...(osc.length > 0 ? { osc } : {}) }, { scheduler });
    try {
      let resolveEnd: () => void = () => {};
      const ended = new Promise<void>((r) => {
        resolveEnd = r;
      });
      const r = await rehearse({ host: server.host, scheduler, session, onEnd: () => resolveEnd() });
      const code = r.space.code;
      const minutes = (plan.endAt - plan.startAt) / 60_000;
      io.stdout.write(
        [
          `rehearsal of "${session.space.name}" (${r.steps} recorded steps, ${minutes.toFixed(1)} min) at ${speed}×`,
          `  display   ${server.publicUrl}/d/${code}   (?mode=field|threads|kaleidoscope|dissonance)`,
          `  steward   ${server.publicUrl}/s/${code}   token ${r.stewardToken}`,
          `  stream    ${server.publicUrl}/api/spaces/${code}/stream`,
          ...(osc.length > 0 ? [`  osc       ${osc.join(', ')}  /attune/${code}/…`] : []),
          '',
        ].join('\n'),
      );
      await Promise.race([ended, new Promise<void>((res) => io.signal.addEventListener('abort', () => res(), { once: true }))]);
      if (!io.signal.aborted) {
        io.stdout.write(`played ${r.played()} of ${r.steps} steps; still serving the rehearsal — Ctrl-C to stop\n`);
        await new Promise<void>((res) => (io.signal.aborted ? res() : io.signal.addEventListener('abort', () => res(), { once: true })));
      }
      r.stop();
      return 0;
    } finally {
      await server.close();
    }
  },
};
