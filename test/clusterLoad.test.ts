/**
 * `attune load` (SPEC K7; src/cli/commands/load.ts) against a real server over real WebSockets,
 * from two client processes: every figure of the final table comes from what the clients got.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { captureIO } from './support/captureIO.ts';

let server: RunningServer | null = null;
afterAll(async () => {
  await server?.close();
});

describe('attune load', () => {
  it('[K7] drives a space from several processes and prints the table; --json has the same figures', { timeout: 60_000 }, async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, text: false });
    const a = captureIO();
    expect(await main(['load', '--url', server.url, '--participants', '12', '--displays', '2', '--input-every', '300', '--duration', '3', '--ramp', '1', '--workers', '2', '--json', '--acked'], a.io)).toBe(0);
    const r = JSON.parse(a.out()) as { joined: number; workers: number; inputsSent: number; inputsAcked: number; ackMs: { n: number; p99: number }; participantPulses: { received: number; expected: number }; displayPulses: { received: number; expected: number }; tapToDisplayMs: { n: number }; errors: Record<string, number>; acked: Record<string, number[]> };
    expect(r.workers).toBe(2);
    expect(r.joined).toBe(12);
    expect(r.inputsSent).toBeGreaterThan(20);
    expect(r.inputsAcked).toBe(r.inputsSent);
    expect(r.ackMs.n).toBe(r.inputsAcked);
    // 12 participants, of whom 2 × 3 are probe groups (tap → display; their pulses are not counted), 3 s at 2 Hz.
    expect(r.participantPulses.expected).toBe((12 - 6) * 3 * 2);
    expect(r.participantPulses.received).toBeGreaterThan(0.8 * r.participantPulses.expected);
    expect(r.displayPulses.expected).toBe(2 * 3 * 20);
    expect(r.displayPulses.received).toBeGreaterThan(0.8 * r.displayPulses.expected);
    expect(r.tapToDisplayMs.n).toBeGreaterThan(0);
    expect(r.errors).toEqual({});
    // Every acknowledged seq of every tapping participant (the probe groups aside).
    expect(Object.keys(r.acked)).toHaveLength(6);
    expect(Object.values(r.acked).flat().length).toBeGreaterThanOrEqual(r.inputsAcked);
    const b = captureIO();
    expect(await main(['load', '--help'], b.io)).toBe(0);
    expect(b.out()).toMatch(/--url URL[\s\S]*--participants N[\s\S]*--displays N[\s\S]*--input-every MS[\s\S]*--duration SECONDS[\s\S]*--ramp SECONDS/);
    const c = captureIO();
    expect(await main(['load', '--url', 'ftp://x'], c.io)).toBe(2);
  });
});
