/**
 * A feed watches a space as a display through the host (`SpaceHost.watch`): a hold asked for
 * from inside a bus handler (the LocalBus delivers during the host's publish effect) must not
 * step the host re-entrantly; presence counts feeds apart from display sockets; a feed gets
 * exactly the bytes a display socket gets; a closing space ends the watch.
 */
import { describe, expect, it } from 'vitest';
import { LocalBus } from '../../src/bus/local/localBus.ts';
import { FeedAudience } from '../../src/feeds/feedAudience.ts';
import { MemoryGovernance } from '../../src/server/createServer.ts';
import { ManualScheduler } from '../../src/space/scheduler.ts';
import { SpaceHost, subjects } from '../../src/space/spaceHost.ts';
import { MemoryStorage } from '../../src/storage/memory/memoryStorage.ts';

describe('feed audience', () => {
  it('[F5] a hold from a pulse handler joins after the publish, and the display pulses then flow', async () => {
    const reports: string[] = [];
    const scheduler = new ManualScheduler();
    const storage = new MemoryStorage();
    const bus = new LocalBus();
    const host = new SpaceHost({ storage, bus, governance: new MemoryGovernance(), scheduler, report: (w, e) => reports.push(`${w}: ${String(e)}`) });
    const made = await host.createSpace({ name: 'audience' });
    if (!made.ok) throw new Error(made.message);
    const { id, code } = made.value.space;
    const ref = host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
    await host.join(ref, code, 'participant', true);
    host.input(ref, { t: 'input', seq: 1, valence: 0.2, arousal: 0.1, confidence: 1, source: 'tap' }, false);
    const audience = new FeedAudience({ host, scheduler, lingerMs: 1000 });
    let held: Promise<unknown> | null = null;
    bus.subscribe(subjects.participantPulse(id), () => {
      held ??= audience.hold(code);
    });
    let displayPulses = 0;
    bus.subscribe(subjects.displayPulse(id), () => displayPulses++);
    scheduler.advance(500); // a participant beat: its publish asks for the hold
    const hold = (await held) as { release(): void } | null;
    expect(hold).not.toBeNull();
    expect(host.presence(id)).toMatchObject({ displays: 0, feeds: 1 });
    scheduler.advance(1000);
    expect(displayPulses).toBe(20);
    hold?.release();
    scheduler.advance(1000); // the linger ends: the display leaves
    expect(host.presence(id)).toMatchObject({ displays: 0, feeds: 0 });
    await host.drain();
    expect(reports).toEqual([]);
    // Every recorded event has its own number.
    const ns = (await storage.listEvents(id, 1, 10_000)).map((e) => e.n);
    expect(new Set(ns).size).toBe(ns.length);
  });

  it('[F5] a watch keeps the display pulses on the bus (what display sockets are sent) flowing; presence counts it as a feed; closing the space ends the watch', async () => {
    const scheduler = new ManualScheduler();
    const bus = new LocalBus();
    const host = new SpaceHost({ storage: new MemoryStorage(), bus, governance: new MemoryGovernance(), scheduler });
    const made = await host.createSpace({ name: 'watch' });
    if (!made.ok) throw new Error(made.message);
    const { id, code } = made.value.space;
    const person = host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
    await host.join(person, code, 'participant', true);
    host.input(person, { t: 'input', seq: 1, valence: 0.5, arousal: -0.2, confidence: 1, source: 'tap' }, false);
    expect((await host.watch('NOSUCHCD')).ok).toBe(false);
    let ended = 0;
    const w = await host.watch(code.toLowerCase(), () => ended++);
    if (!w.ok) throw new Error(w.message);
    expect(w.value).toMatchObject({ spaceId: id, code });
    const fed: string[] = [];
    bus.subscribe(subjects.displayPulse(id), (b) => fed.push(new TextDecoder().decode(b)));
    const screen = host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
    await host.join(screen, code, 'display', false);
    expect(host.presence(id)).toMatchObject({ displays: 1, feeds: 1 });
    scheduler.advance(500);
    expect(fed.length).toBe(10); // 20 Hz, the subject the WebSocket edge fans out to display sockets
    host.detach(screen);
    expect(host.presence(id)).toMatchObject({ displays: 0, feeds: 1 });
    scheduler.advance(500);
    expect(fed.length).toBe(20); // the watch alone keeps display pulses flowing
    const closed = await host.closeSpace(code, made.value.stewardToken);
    expect(closed.ok).toBe(true);
    expect(ended).toBe(1);
    w.value.end(); // idempotent after the close
    expect(host.presence(id)).toMatchObject({ displays: 0, feeds: 0 });
  });
});
