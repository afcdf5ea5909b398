/**
 * The load driver (`runLoad`, src/cli/commands/load.ts) against bench:scale's floor: plain-ws
 * servers (bench/support/cadenceWsServer.ts) in two processes that share nothing, the clients
 * spread over them as over two nodes. Their pulses count per role, every input is acknowledged,
 * the displays note the padded size — and tap → display is seen only when each probe group joins
 * the process of the display that times it (`probesBesideDisplay`): spread over both, a display
 * sees one of its three probes, never the move.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProbedServer, startProbedServer } from '../bench/support/probedServers.ts';
import { runLoad } from '../src/cli/commands/load.ts';

let servers: ProbedServer[] = [];
beforeAll(async () => {
  servers = await Promise.all([0, 1].map(() => startProbedServer('ws', { spaces: 1, capacity: 100, pulseBytes: 1700 })));
}, 30_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

const load = (probesBesideDisplay: boolean) =>
  runLoad({
    urls: servers.map((s) => s.wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '')),
    code: servers[0]?.codes[0] as string,
    participants: 12,
    displays: 2,
    inputEveryMs: 300,
    durationS: 3,
    rampS: 1,
    workers: 2,
    probesBesideDisplay,
  });

describe('attune load against plain ws in two processes', () => {
  it('counts pulses and acks, notes the padded size, and sees tap → display with probes beside their display', { timeout: 60_000 }, async () => {
    const r = await load(true);
    expect(r.joined).toBe(12);
    expect(r.participantPulses.expected).toBe((12 - 6) * 3 * 2);
    expect(r.participantPulses.received).toBeGreaterThan(0.8 * r.participantPulses.expected);
    expect(r.displayPulses.received).toBeGreaterThan(0.8 * r.displayPulses.expected);
    expect(r.inputsSent).toBeGreaterThan(20);
    expect(r.inputsAcked).toBe(r.inputsSent);
    expect(r.pulseBytes).toBeGreaterThan(1690);
    expect(r.pulseBytes).toBeLessThanOrEqual(1700);
    expect(r.tapToDisplayMs.moves).toBeGreaterThan(0);
    expect(r.tapToDisplayMs.n).toBeGreaterThan(0);
    expect(r.errors).toEqual({});
  });

  it('sees no move when the probe groups are spread over both processes', { timeout: 60_000 }, async () => {
    const r = await load(false);
    expect(r.tapToDisplayMs.moves).toBeGreaterThan(0);
    expect(r.tapToDisplayMs.n).toBe(0);
    expect(r.participantPulses.received).toBeGreaterThan(0.8 * r.participantPulses.expected);
  });
});
