/**
 * Simulated straps against a real server over real WebSockets: wearers' phones send heart
 * inputs (W5a) that the server acknowledges. The crowd runs on a clock 10× faster than the
 * wall, injected, so a minute of simulated baseline and sharing takes five seconds.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command } from '../cli/commands/simulate.ts';
import { UsageError } from '../cli/command.ts';
import { type RunningServer, createServer } from '../server/createServer.ts';
import { createSpace, runSocketCrowd } from './socketCrowd.ts';

describe('simulated heart straps against a real server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null });
  });
  afterAll(async () => {
    await server.close();
  });

  it('[W5a] wearers’ phones send heart inputs the server acknowledges', async () => {
    const { code } = await createSpace(server.url, 'heart sim', 20);
    const start = Date.now();
    const fast = () => start + (Date.now() - start) * 10;
    const r = await runSocketCrowd({ url: server.url, code, seed: 4, participants: 10, durationMs: 50_000, scenario: 'calm', heart: 0.5, clock: fast, joinTimeoutMs: 100_000 });
    expect(r.joined).toBe(10);
    expect(r.wearers).toBe(5);
    // Each wearer's phone sends once its 30 s minimum baseline is in (how many depends on how fast
    // this machine turns the crowd's loop; at most one per 2 s of crowd time each).
    expect(r.heartSent).toBeGreaterThanOrEqual(5 * 3);
    expect(r.heartSent).toBeLessThanOrEqual(5 * 10);
    expect(r.acked).toBe(r.sent);
    expect(Object.keys(r.errors)).toEqual([]);
  }, 30_000);

  it('`attune simulate --heart` takes a share in [0, 1]', async () => {
    const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: process.cwd(), signal: new AbortController().signal };
    await expect(command.run(['--url', server.url, '--heart', '1.5'], io)).rejects.toThrow(UsageError);
    await expect(command.run(['--url', server.url, '--heart', '0.3', '--heart-sync', '2'], io)).rejects.toThrow(/--heart-sync must be a number in \[0, 1\]/);
  });
});
