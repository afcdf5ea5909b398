import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command } from '../cli/commands/simulate.ts';
import { type RunningServer, createServer } from '../server/createServer.ts';
import { createSpace, runSocketCrowd } from './socketCrowd.ts';

describe('simulated crowd against a real server (WebSockets)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null });
  });
  afterAll(async () => {
    await server.close();
  });

  it('30 participants join, send acknowledged inputs and are counted in the pulse', async () => {
    const { code } = await createSpace(server.url, 'sim test', 40);
    const r = await runSocketCrowd({ url: server.url, code, seed: 1, participants: 30, durationMs: 5_000, scenario: 'arc' });
    expect(r.joined).toBe(30);
    expect(r.sent).toBeGreaterThan(30);
    expect(r.acked).toBe(r.sent);
    expect(Object.keys(r.errors)).toEqual([]);
    expect(r.maxPulseCount).toBeGreaterThanOrEqual(25);
    expect(r.truth.startedAt).not.toBeNull();
    expect(r.truth.changePoints).toHaveLength(3);
  });

  it('`attune simulate` creates a space, runs and writes the ground truth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-sim-'));
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    out.on('data', (d) => {
      stdout += String(d);
    });
    err.resume();
    const code = await command.run(['--url', server.url, '--participants', '12', '--duration', '3', '--scenario', 'split', '--seed', '5', '--out', 'truth.json'], {
      stdin: new PassThrough(),
      stdout: out,
      stderr: err,
      env: {},
      cwd: dir,
      signal: new AbortController().signal,
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/joined 12\/12/);
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8'));
    expect(truth.scenario).toBe('split');
    expect(truth.participants).toBe(12);
    expect(truth.changePoints.map((c: { phase: string }) => c.phase)).toEqual(['split', 'healing']);
    expect(truth.samples.length).toBeGreaterThan(0);
  });
});
