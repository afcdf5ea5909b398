/**
 * `attune simulate`: a seeded crowd of simulated phones joins a running server over real
 * WebSockets (src/sim/socketCrowd.ts) and writes the ground truth — scripted change points and
 * camp counts over time — to a JSON file.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GRAPH_KINDS, type GraphKind } from '../../sim/graphs.ts';
import { createGroupedSpace, runGroupStory } from '../../sim/groupCrowd.ts';
import { SCENARIOS, type ScenarioName } from '../../sim/scenarios.ts';
import { createSpace, runSocketCrowd, type SocketCrowdProgress } from '../../sim/socketCrowd.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';

const HELP = `Usage: attune simulate [options]

Joins a running attune server with a crowd of simulated participants, one WebSocket each,
driven by seeded models: SISa emotional contagion on a Watts–Strogatz or Barabási–Albert
graph, Deffuant bounded-confidence opinion dynamics for camps, and a scripted scenario.
Writes the ground truth (change points, camp counts over time) as JSON.

Scenarios:
  arc     calm → anxiety surge → split into two camps → healing   (default)
  surge   calm → anxiety surge → healing
  split   calm → split into two camps → healing
  calm    calm throughout (no change)
  split2  calm → two camps, neither anxious (elated vs low)
  split3  calm → three camps (anxious, elated, low)
  drift   calm → the whole room drifts over 5 minutes (a trend, not a change)

Options:
  --url URL            the server (env ATTUNE_URL, default http://127.0.0.1:8787)
  --code CODE          join this space (default: create a new space and print its code)
  --seed S             seed of every random choice (default 1)
  --participants N     simulated people, 3…5000 (default 50)
  --duration SECONDS   how long to run (default 120)
  --scenario NAME      arc | surge | split | calm | split2 | split3 | drift (default arc)
  --graph KIND         watts-strogatz | barabasi-albert (default: chosen by the seed)
  --out FILE           write the ground truth JSON here (default: don't write)
  --heart SHARE        share of people wearing a simulated heart-rate strap, 0…1 (default 0);
                       their phones send heart inputs as real phones do (docs/heart.md)
  --heart-sync S       strength of the room's shared heart drive, 0…1 (default 0.5)
  --groups A,B[,…]     instead of a scenario: people split among these declared groups (R6),
                       each starting at a pole of its own, coming together over the run; prints
                       the released bridging score as it rises (docs/bridging.md)
  --quiet              no progress bar
  -h, --help           show this help

Example:
  attune simulate --participants 80 --duration 300 --scenario arc --seed 7 --out truth.json
`;

function intFlag(name: string, raw: string | undefined, fallback: number, lo: number, hi: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new UsageError(`--${name} must be a number in [${lo}, ${hi}]`);
  return n;
}

/** Renders one line of progress: a bar, time, joins, inputs and the pulse's count. */
export function progressLine(p: SocketCrowdProgress, width = 24): string {
  const f = Math.max(0, Math.min(1, p.elapsedMs / p.durationMs));
  const filled = Math.round(f * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const s = (ms: number): string => `${Math.round(ms / 1000)}s`;
  return `${bar} ${String(Math.round(f * 100)).padStart(3)}% ${s(p.elapsedMs)}/${s(p.durationMs)} ${p.phase.padEnd(7)} joined ${p.joined}/${p.participants} sent ${p.sent} acked ${p.acked}${p.errors ? ` errors ${p.errors}` : ''} pulse ${p.pulseCount ?? '—'}`;
}

export const command: Command = {
  summary: 'join a server with a seeded simulated crowd and write the ground truth',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        code: { type: 'string' },
        seed: { type: 'string' },
        participants: { type: 'string' },
        duration: { type: 'string' },
        scenario: { type: 'string' },
        graph: { type: 'string' },
        out: { type: 'string' },
        heart: { type: 'string' },
        'heart-sync': { type: 'string' },
        groups: { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const url = values.url ?? io.env.ATTUNE_URL ?? 'http://127.0.0.1:8787';
    try {
      new URL(url);
    } catch {
      throw new UsageError(`--url is not a URL: ${url}`);
    }
    const scenario = (values.scenario ?? 'arc') as ScenarioName;
    if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}`);
    const graph = values.graph as GraphKind | undefined;
    if (graph !== undefined && !(GRAPH_KINDS as readonly string[]).includes(graph)) throw new UsageError(`--graph must be one of ${GRAPH_KINDS.join(', ')}`);
    const participants = Math.round(intFlag('participants', values.participants, 50, 3, 5000));
    const durationMs = Math.round(intFlag('duration', values.duration, 120, 1, 86_400) * 1000);
    const heart = intFlag('heart', values.heart, 0, 0, 1);
    const heartSync = intFlag('heart-sync', values['heart-sync'], 0.5, 0, 1);
    const seedRaw = values.seed ?? '1';
    const seed: number | string = /^-?\d+$/.test(seedRaw) ? Number(seedRaw) : seedRaw;

    if (values.groups !== undefined) {
      const groups = values.groups.split(',').map((g) => g.trim()).filter((g) => g.length > 0);
      if (groups.length < 2 || groups.length > 8) throw new UsageError('--groups needs 2 to 8 comma-separated names');
      let groupCode = values.code;
      if (!groupCode) {
        try {
          const space = await createGroupedSpace(url, `simulation: groups ${groups.join(', ')}, seed ${seedRaw}`, groups, participants + 10, io.signal);
          groupCode = space.code;
          io.stderr.write(`attune simulate: created space ${groupCode} with groups ${groups.join(', ')} (steward token ${space.stewardToken})\n`);
        } catch (e) {
          io.stderr.write(`attune simulate: could not create a space at ${url}: ${(e as Error).message}. Is 'attune serve' running? Use --url or --code.\n`);
          return 1;
        }
      }
      io.stdout.write(`simulating ${participants} participants in groups ${groups.join(', ')} coming together, seed ${seedRaw}, ${durationMs / 1000} s, space ${groupCode}\n`);
      const last = await runGroupStory({
        url,
        code: groupCode,
        groups,
        participants,
        durationMs,
        seed,
        signal: io.signal,
        onStep: (s, p) => {
          if (values.quiet) return;
          const b = p?.bridging;
          io.stderr.write(`step ${s}: ${b ? `bridging ${b.score.toFixed(2)}, closeness ${b.closeness.toFixed(2)}, common ground ${b.commonGround.regions.length} regions` : 'no bridging yet (groups below the cohort)'}\n`);
        },
      });
      const b = last?.bridging;
      io.stdout.write(b ? `final bridging score ${b.score.toFixed(2)}, closeness ${b.closeness.toFixed(2)}\n` : 'no bridging score was released\n');
      return last ? 0 : 1;
    }
    let code = values.code;
    if (!code) {
      try {
        const space = await createSpace(url, `simulation: ${scenario}, seed ${seedRaw}`, participants + 10, io.signal);
        code = space.code;
        io.stderr.write(`attune simulate: created space ${code} (steward token ${space.stewardToken})\n`);
      } catch (e) {
        io.stderr.write(`attune simulate: could not create a space at ${url}: ${(e as Error).message}. Is 'attune serve' running? Use --url or --code.\n`);
        return 1;
      }
    }
    io.stdout.write(`simulating ${participants} participants, scenario ${scenario}, seed ${seedRaw}, ${durationMs / 1000} s, space ${code}\n`);
    const tty = Boolean(io.stderr.isTTY);
    let lastDecile = -1;
    const result = await runSocketCrowd({
      url,
      code,
      seed,
      participants,
      durationMs,
      scenario,
      ...(graph ? { graph } : {}),
      ...(heart > 0 ? { heart, heartSync } : {}),
      signal: io.signal,
      onProgress: (p) => {
        if (values.quiet) return;
        if (tty) io.stderr.write(`\r${progressLine(p, Math.max(10, Math.min(24, (io.stderr.columns ?? 100) - 90)))}\x1b[K`);
        else {
          const decile = Math.floor((10 * p.elapsedMs) / p.durationMs);
          if (decile !== lastDecile) {
            lastDecile = decile;
            io.stderr.write(`${progressLine(p)}\n`);
          }
        }
      },
    });
    if (tty && !values.quiet) io.stderr.write('\n');
    if (result.joined === 0) {
      const errs = Object.entries(result.errors).map(([k, v]) => `${k}×${v}`).join(', ');
      io.stderr.write(`attune simulate: no participant could join space ${code} at ${url}${errs ? ` (${errs})` : ''}. Check --url and --code.\n`);
    }
    const t = result.truth;
    io.stdout.write(`joined ${result.joined}/${participants}, sent ${result.sent} inputs, ${result.acked} acknowledged, ${result.pulses} pulses (largest count ${result.maxPulseCount})\n`);
    if (result.wearers > 0) io.stdout.write(`heart straps: ${result.wearers} wearers sent ${result.heartSent} heart inputs\n`);
    const errs = Object.entries(result.errors);
    if (errs.length > 0) io.stdout.write(`errors: ${errs.map(([k, v]) => `${k}×${v}`).join(', ')}\n`);
    io.stdout.write(`true change points: ${t.changePoints.map((c) => `${c.phase} at ${(c.atMs / 1000).toFixed(1)} s`).join(', ') || 'none'}\n`);
    if (result.alertsSeen.length > 0) {
      io.stdout.write(`alerts seen in the pulse: ${result.alertsSeen.map((a) => `${a.metric} ${a.direction} from ${((a.startedAt - (t.startedAt ?? 0)) / 1000).toFixed(1)} s`).join('; ')}\n`);
    }
    if (values.out) {
      const path = resolve(io.cwd, values.out);
      writeFileSync(path, `${JSON.stringify({ ...t, code, url, stats: { joined: result.joined, sent: result.sent, acked: result.acked, errors: result.errors, pulses: result.pulses, maxPulseCount: result.maxPulseCount }, alertsSeen: result.alertsSeen }, null, 2)}\n`);
      io.stdout.write(`ground truth written to ${path}\n`);
    }
    return result.joined > 0 && result.acked > 0 ? 0 : 1;
  },
};
