/**
 * What a heart-sharing phone puts on the wire (SPEC W5a): the session's inputs pass the
 * protocol's schema, travel through the one protocol client unchanged, and carry nothing but
 * the derived point and the period's mean heart rate.
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { AttuneClient, memoryStorage } from '../../client/attuneClient.ts';
import { ManualClock, memorySockets } from '../../client/memorySocket.ts';
import { PointInputSchema } from '../../core/protocol.ts';
import { encodeHeartRateMeasurement, parseHeartRateMeasurement, rrUnitsOfMs } from './heartRateMeasurement.ts';
import { HeartSession, type HeartInput } from './heartSession.ts';

const ok = (m: unknown) => v.safeParse(PointInputSchema, m).success;

function inputsOf(seconds: number): HeartInput[] {
  const s = new HeartSession();
  s.said(0.25, 0);
  const out: HeartInput[] = [];
  for (let t = 0; t < seconds * 1000; t += 500) {
    if (t % 1000 === 0) {
      const m = parseHeartRateMeasurement(encodeHeartRateMeasurement({ bpm: 72, rrRaw: [rrUnitsOfMs(820 + (t % 3000) / 100), rrUnitsOfMs(840)] }));
      if (m.ok) s.frame(m.value, t);
    }
    const { input } = s.tick(t);
    if (input) out.push(input);
  }
  return out;
}

describe('[W5a] heart inputs on the wire', () => {
  it('the schema takes heart.bpm on heart inputs only, within 25–250, and nothing else in it', () => {
    const base = { t: 'input', seq: 1, valence: 0.1, arousal: 0.2 };
    expect(ok({ ...base, source: 'heart', heart: { bpm: 71.5 } })).toBe(true);
    expect(ok({ ...base, source: 'heart' })).toBe(true); // still optional: older phones stay valid
    expect(ok({ ...base })).toBe(true);
    expect(ok({ ...base, source: 'tap', heart: { bpm: 70 } })).toBe(false);
    expect(ok({ ...base, heart: { bpm: 70 } })).toBe(false); // source defaults to tap
    expect(ok({ ...base, source: 'heart', heart: { bpm: 0 } })).toBe(false);
    expect(ok({ ...base, source: 'heart', heart: { bpm: 300 } })).toBe(false);
    expect(ok({ ...base, source: 'heart', heart: { bpm: 70, rrMs: [800] } })).toBe(false);
    expect(ok({ ...base, source: 'heart', heart: { bpm: Number.POSITIVE_INFINITY } })).toBe(false);
  });

  it('every input a session emits is valid and the client sends it as is', () => {
    const heart = inputsOf(90);
    expect(heart.length).toBeGreaterThan(20);
    const clock = new ManualClock(1_000);
    const sockets = memorySockets();
    const client = new AttuneClient({ url: 'ws://test/ws', code: 'ABCD2345', role: 'participant', consent: true, connect: sockets.connect, clock, storage: memoryStorage(), random: () => 0.5 });
    client.start();
    const peer = sockets.last();
    peer.accept();
    peer.send({ t: 'welcome', role: 'participant', participant: 'p1', token: 'tok-123456789', space: { code: 'ABCD2345', name: 'r', status: 'open', capacity: 9, ttlMs: 120_000 }, you: null, lastSeq: 0, pulseHz: 2 });
    for (const h of heart) expect(client.send(h).ok).toBe(true);
    const sent = peer.received.filter((m) => m.t === 'input');
    expect(sent).toHaveLength(heart.length);
    for (const [i, m] of sent.entries()) {
      expect(ok(m)).toBe(true);
      expect(m).toEqual({ t: 'input', seq: i + 1, ...heart[i], seen: false });
    }
    client.stop();
  });
});
