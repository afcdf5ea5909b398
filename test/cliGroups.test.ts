/**
 * `attune space create --group` and `attune space link` against a real server (in process):
 * groups declared at creation (H1, R6), and two spaces linked by both stewards (H14, M5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { captureIO } from './support/captureIO.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null });
});
afterAll(async () => {
  await server.close();
});

async function create(name: string, groups: string[]): Promise<{ code: string; stewardToken: string; groups?: string[] }> {
  const a = captureIO({});
  expect(await main(['space', 'create', name, ...groups.flatMap((g) => ['--group', g]), '--json', '--url', server.url], a.io)).toBe(0);
  return JSON.parse(a.out()) as { code: string; stewardToken: string; groups?: string[] };
}

describe('attune space: groups and links', () => {
  it('[H1][R6] --group declares the space’s groups', async () => {
    const s = await create('City', ['Alterna', 'Glimmers']);
    expect(s.groups).toEqual(['Alterna', 'Glimmers']);
    const bad = captureIO({});
    expect(await main(['space', 'create', 'x', '--group', 'a', '--group', 'a', '--url', server.url], bad.io)).toBe(1);
    expect(bad.err()).toContain('named twice');
  });

  it('[H14][M5] space link: one steward agrees, then the other, and the spaces are linked', async () => {
    const a = await create('Alterna tonight', []);
    const b = await create('Glimmers tonight', []);
    const one = captureIO({});
    expect(await main(['space', 'link', a.code, '--with', b.code, '--token', a.stewardToken, '--url', server.url], one.io)).toBe(0);
    expect(one.out()).toContain(`waiting for ${b.code}'s steward`);
    const two = captureIO({ env: { ATTUNE_STEWARD_TOKEN: b.stewardToken } });
    expect(await main(['space', 'link', b.code, '--with', a.code, '--url', server.url], two.io)).toBe(0);
    expect(two.out()).toContain(`/compare?spaces=${b.code},${a.code}`);
    expect((await fetch(`${server.url}/api/compare?spaces=${a.code},${b.code}`)).status).toBe(200);
    const off = captureIO({});
    expect(await main(['space', 'link', a.code, '--with', b.code, '--unlink', '--token', a.stewardToken, '--url', server.url], off.io)).toBe(0);
    expect((await fetch(`${server.url}/api/compare?spaces=${a.code},${b.code}`)).status).toBe(404);
    const wrong = captureIO({});
    expect(await main(['space', 'link', a.code, '--with', b.code, '--token', 'nope', '--url', server.url], wrong.io)).toBe(1);
  });

  it('[R6] attune simulate --groups: groups come together and the released bridging score rises', async () => {
    const a = captureIO({});
    expect(await main(['simulate', '--groups', 'Alterna,Glimmers', '--participants', '12', '--duration', '3', '--seed', '3', '--url', server.url], a.io)).toBe(0);
    expect(a.err()).toMatch(/created space [2-9A-Z]{8} with groups Alterna, Glimmers/);
    const scores = [...a.err().matchAll(/step \d+: bridging ([0-9.]+)/g)].map((m) => Number(m[1]));
    expect(scores.length).toBeGreaterThan(3);
    expect(a.out()).toMatch(/final bridging score ([0-9.]+)/);
    expect(Number(/final bridging score ([0-9.]+)/.exec(a.out())?.[1])).toBeGreaterThan(scores[0] as number);
    const bad = captureIO({});
    expect(await main(['simulate', '--groups', 'solo', '--url', server.url], bad.io)).toBe(2);
  }, 30_000);
});
