/**
 * The `attune` command in process, with captured streams: help, bad flags, unreachable ports
 * and servers, and space management against a real server.
 */
import { createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { captureIO } from './support/captureIO.ts';

const io = (env: Record<string, string> = {}) => captureIO({ env });

let server: RunningServer;
beforeAll(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null });
});
afterAll(async () => {
  await server.close();
});

describe('attune CLI', () => {
  it('lists commands with --help and exits 0; with no command exits 2', async () => {
    const a = io();
    expect(await main(['--help'], a.io)).toBe(0);
    for (const c of ['serve', 'space', 'analyze', 'simulate', 'log', 'audit']) expect(a.out()).toContain(c);
    const b = io();
    expect(await main([], b.io)).toBe(2);
  });

  it('has --help on every command', async () => {
    for (const c of ['serve', 'space']) {
      const a = io();
      expect(await main([c, '--help'], a.io)).toBe(0);
      expect(a.out()).toMatch(/^Usage: attune /);
    }
  });

  it('rejects an unknown command and bad flags with exit 2 and a clear message', async () => {
    const a = io();
    expect(await main(['nope'], a.io)).toBe(2);
    expect(a.err()).toContain("unknown command 'nope'");
    const b = io();
    expect(await main(['serve', '--port', 'eighty'], b.io)).toBe(2);
    expect(b.err()).toContain('--port must be an integer');
    const c = io();
    expect(await main(['serve', '--bogus'], c.io)).toBe(2);
    expect(c.err()).toMatch(/bogus/);
    const e = io();
    expect(await main(['serve', '--commit-interval', '2000', '--db', ':memory:', '--no-build'], e.io)).toBe(2);
    expect(e.err()).toContain("--commit-interval must be an integer in [0, 1000], got '2000'");
    const d = io();
    expect(await main(['space', 'explode'], d.io)).toBe(2);
    expect(d.err()).toContain("unknown sub-command 'explode'");
  });

  it('serve says clearly when the port is taken', async () => {
    const blocker = createNetServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const a = io();
    expect(await main(['serve', '--port', String(port), '--db', ':memory:', '--no-build'], a.io)).toBe(1);
    expect(a.err()).toContain(`port ${port} on 127.0.0.1 is already in use`);
    blocker.close();
  });

  it('serve runs until aborted and shuts down cleanly', async () => {
    const a = io();
    const run = main(['serve', '--port', '0', '--db', ':memory:', '--no-build', '--demo', '--min-cohort', '3'], a.io);
    await expect.poll(() => a.out(), { timeout: 10_000 }).toContain('Demo space — join code');
    expect(a.out()).toMatch(/join \(phones\): +http:\/\/127\.0\.0\.1:\d+\/j\/[2-9A-Z]{8}/);
    a.abort();
    expect(await run).toBe(0);
  });

  it('[O6] serve --metrics-token (env ATTUNE_METRICS_TOKEN) guards /metrics; a short token is a usage error', async () => {
    const short = io();
    expect(await main(['serve', '--port', '0', '--db', ':memory:', '--no-build', '--metrics-token', 'abc'], short.io)).toBe(2);
    expect(short.err()).toContain('--metrics-token must be 16–512 printable characters');
    const token = 'cli-scrape-token-5d1e8b';
    const a = io({ ATTUNE_METRICS_TOKEN: token });
    const run = main(['serve', '--port', '0', '--db', ':memory:', '--no-build'], a.io);
    await expect.poll(() => a.out(), { timeout: 10_000 }).toContain('attune is running at');
    const url = /attune is running at (\S+)/.exec(a.out())?.[1] as string;
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    a.abort();
    expect(await run).toBe(0);
  });

  it('space create, list and close against a running server', async () => {
    const c = io();
    expect(await main(['space', 'create', 'CLI', 'room', '--capacity', '50', '--url', server.url, '--json'], c.io)).toBe(0);
    const created = JSON.parse(c.out()) as { code: string; stewardToken: string; name: string; capacity: number };
    expect(created).toMatchObject({ name: 'CLI room', capacity: 50 });
    const l = io({ ATTUNE_ADMIN_TOKEN: server.adminToken });
    expect(await main(['space', 'list', '--url', server.url], l.io)).toBe(0);
    expect(l.out()).toContain(created.code);
    const bad = io();
    expect(await main(['space', 'close', created.code, '--token', 'wrong', '--url', server.url], bad.io)).toBe(1);
    expect(bad.err()).toContain('UNAUTHORIZED');
    const ok = io({ ATTUNE_STEWARD_TOKEN: created.stewardToken });
    expect(await main(['space', 'close', created.code, '--url', server.url], ok.io)).toBe(0);
    expect(ok.out()).toContain(`Closed ${created.code}`);
  });

  it('space says clearly when no server answers', async () => {
    const a = io();
    expect(await main(['space', 'create', 'x', '--url', 'http://127.0.0.1:1'], a.io)).toBe(1);
    expect(a.err()).toMatch(/could not reach attune at http:\/\/127\.0\.0\.1:1/);
  });
});
