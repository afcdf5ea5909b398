/**
 * The OSC feed against a real receiver: Debian's `oscdump` (liblo-tools) listens on UDP and
 * prints every message of every bundle it decodes; each printed message must be the one the
 * released display pulse asks for, value for value (floats as float32), for a real space host
 * running a crowd that splits (so camps, dissonance and alerts are in the pulses).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../../src/bus/local/localBus.ts';
import type { PulseView } from '../../src/core/space/events.ts';
import { type OscArg, oscMessagesOf } from '../../src/feeds/osc/oscPulse.ts';
import { OscFeed, parseOscTarget } from '../../src/feeds/osc/oscFeed.ts';
import { subscribeReleasedViews } from '../../src/feeds/releasedViews.ts';
import { MemoryGovernance } from '../../src/server/createServer.ts';
import { Crowd } from '../../src/sim/crowd.ts';
import { ManualScheduler } from '../../src/space/scheduler.ts';
import { SpaceHost } from '../../src/space/spaceHost.ts';
import { MemoryStorage } from '../../src/storage/memory/memoryStorage.ts';
import { hasOscdump, type Oscdump, startOscdump } from '../support/oscdump.ts';

const EPOCH = 1_700_000_000_000;
const dumps: Oscdump[] = [];

afterEach(() => {
  for (const d of dumps.splice(0)) d.stop();
});

/** How oscdump prints one argument: `%f` for floats (of the float32 sent), quoted strings. */
function printed(a: OscArg): string {
  if (a.type === 'f') return Math.fround(a.value).toFixed(6);
  if (a.type === 's') return `"${a.value}"`;
  return String(a.value);
}

describe('OSC feed', () => {
  it.runIf(hasOscdump)('[F1] bundles decoded by oscdump match the released pulse, message for message', async () => {
    const dump = await startOscdump();
    dumps.push(dump);
    const { port } = dump;

    const bus = new LocalBus();
    const scheduler = new ManualScheduler(EPOCH);
    const host = new SpaceHost({ storage: new MemoryStorage(), bus, governance: new MemoryGovernance(), scheduler, machine: { release: { minCohort: 3 } }, report: () => {} });
    const made = await host.createSpace({ name: 'osc', capacity: 200, ttlSeconds: 120 });
    if (!made.ok) throw new Error(made.message);
    const { id, code } = made.value.space;
    const target = parseOscTarget(`127.0.0.1:${port}`);
    if (typeof target === 'string') throw new Error(target);
    const views: PulseView[] = [];
    subscribeReleasedViews(bus, id, ({ view }) => views.push(view));

    await host.join(host.attach({ send: () => {}, close: () => {}, welcomed: () => {} }), code, 'display', false);
    const crowd = new Crowd({ seed: 'osc', participants: 60, durationMs: 60_000, scenario: 'split' });
    const refs: number[] = [];
    for (let i = 0; i < 60; i++) {
      const ref = host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
      refs.push(ref);
      await host.join(ref, code, 'participant', true);
    }
    const seqs = new Array<number>(60).fill(0);
    scheduler.every(500, () => {
      for (const tap of crowd.step(scheduler.now() - EPOCH, views.at(-1)?.smoothed ?? null)) {
        seqs[tap.participant] = (seqs[tap.participant] ?? 0) + 1;
        host.input(refs[tap.participant] as number, { t: 'input', seq: seqs[tap.participant] as number, valence: tap.valence, arousal: tap.arousal, confidence: 1, source: 'tap' }, tap.seen);
      }
    }, EPOCH);
    // 37 s of the room split, then the feed starts (it is live: it sends what is published
    // while it runs) and 3 s at 20 Hz go to the receiver: 60 bundles.
    scheduler.advance(37_000);
    const feed = new OscFeed({ bus, targets: [target], modeOf: () => 'threads' }).start();
    const before = views.length;
    scheduler.advance(3_000);
    const sent = views.slice(before);
    expect(sent.length).toBe(60);
    expect(feed.stats.bundles).toBe(60);

    const expected = sent.flatMap((v) => oscMessagesOf(v, { mode: 'threads' }).map((m) => `${m.address} ${m.args.map((a) => a.type).join('')} ${m.args.map(printed).join(' ')}`.trimEnd()));
    const lines = () => dump.output().split('\n').filter((l) => l.length > 0).map((l) => l.replace(/^[0-9a-f]{8}\.[0-9a-f]{8} /, '').trimEnd());
    await expect.poll(() => lines().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(expected.length);
    const got = lines();
    expect(got).toEqual(expected);
    // The pulses that went out carried the split: camps, dissonance and an alert line each.
    expect(got.some((l) => l.startsWith(`/attune/${code}/camps/1 fffi `))).toBe(true);
    expect(got.filter((l) => l.startsWith(`/attune/${code}/dissonance f`))).toHaveLength(60);
    expect(got.filter((l) => l === `/attune/${code}/mode s "threads"`)).toHaveLength(60);
    await feed.close();
    await host.stop();
  }, 60_000);

  it('[F1] a suppressed room sends its count and a resting heartbeat, nothing the release stage withheld', () => {
    const view = { t: 'pulse', seq: 7, at: EPOCH, count: 2, suppressed: true, minCohort: 3, mean: null, smoothed: null, spread: null, quadrants: null, bins: 16, hist: null, space: 'ABCD2345', collective: null } as const satisfies PulseView;
    expect(oscMessagesOf(view, { mode: 'field' }).map((m) => m.address)).toEqual(['/attune/ABCD2345/seq', '/attune/ABCD2345/count', '/attune/ABCD2345/suppressed', '/attune/ABCD2345/heartbeat', '/attune/ABCD2345/mode']);
    expect(oscMessagesOf(view).find((m) => m.address.endsWith('/heartbeat'))?.args).toEqual([{ type: 'f', value: 60 }]);
  });

  it('[F1][Q5] under a council’s calm feedback the heartbeat runs at 0.6 of its rate, as on the screens', () => {
    const base = { t: 'pulse', seq: 8, at: EPOCH, count: 5, suppressed: false, minCohort: 3, mean: { valence: 0, arousal: 0.5 }, smoothed: { valence: 0, arousal: 0.5 }, spread: { valence: 0, arousal: 0 }, quadrants: [1, 0, 0, 0], bins: 16, hist: null, space: 'ABCD2345', collective: null } as const satisfies PulseView;
    const beat = (v: PulseView) => (oscMessagesOf(v).find((m) => m.address.endsWith('/heartbeat'))?.args[0] as { value: number } | undefined)?.value;
    const calm = { ...base, feedback: { mode: 'calm', policy: null, reason: 'r', since: EPOCH, until: null, entry: 3 } } as PulseView;
    expect(beat(base)).toBeCloseTo(111, 4);
    expect(beat(calm)).toBeCloseTo(111 * 0.6, 4);
  });

  it('[F1] parses targets and refuses malformed ones as values', () => {
    expect(parseOscTarget('127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseOscTarget('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(parseOscTarget('lights.local:53000')).toEqual({ host: 'lights.local', port: 53000 });
    expect(parseOscTarget('nohost')).toMatch(/HOST:PORT/);
    expect(parseOscTarget('a:70000')).toMatch(/1…65535/);
  });
});
