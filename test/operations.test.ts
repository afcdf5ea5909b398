/**
 * Operations endpoints (SPEC §O) on a real server: `/metrics` linted by the real
 * `promtool check metrics` (Debian's prometheus package), `/readyz` against real PostgreSQL and
 * NATS whose connections go away, and the drain on close (bye with reason shutdown, 1001).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NatsBus } from '../src/bus/nats/natsBus.ts';
import { NatsKv } from '../src/bus/nats/natsKv.ts';
import { createServer, type RunningServer } from '../src/server/createServer.ts';
import { Metrics, timedScheduler } from '../src/server/metrics.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { subjects } from '../src/space/spaceHost.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';
import { PostgresStorage } from '../src/storage/postgres/postgresStorage.ts';
import { pgAdmin, TEST_PG, testSchemas } from './support/postgres.ts';
import { connect, isType, type TestClient } from './support/wsClient.ts';

const PROMTOOL = '/usr/bin/promtool';
const PG = TEST_PG;
const schemas = testSchemas();
const admin = pgAdmin;

afterAll(() => schemas.dropAll());

/** `promtool check metrics` on `text`: its exit status and what it printed. */
function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The value of one sample line `name{labels} value` (labels as written by prom-client). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function space(s: RunningServer): Promise<string> {
  const r = await fetch(`${s.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ops' }) });
  return ((await r.json()) as { code: string }).code;
}

describe('operations (SPEC §O)', () => {
  let server: RunningServer | null = null;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = null;
  });

  it('[O1] /metrics counts connections by role, inputs, acks, ticks and dependencies, and passes promtool check metrics', async () => {
    expect(existsSync(PROMTOOL), 'promtool (Debian package prometheus) is installed by .ci/run').toBe(true);
    const scheduler = new ManualScheduler(Date.now());
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1 }, { scheduler });
    const code = await space(server);
    const p = await connect(`${server.url.replace('http', 'ws')}/ws`);
    const d = await connect(`${server.url.replace('http', 'ws')}/ws`);
    clients.push(p, d);
    p.send({ t: 'join', code, role: 'participant', consent: true });
    d.send({ t: 'join', code, role: 'display', consent: false });
    await p.next(isType('welcome'));
    await d.next(isType('welcome'));
    p.send({ t: 'input', seq: 1, valence: 0.5, arousal: 0.5 });
    await p.next(isType('ack'));
    scheduler.advance(200); // a few beats, timed
    // A cluster node reports its lease through the same registry.
    server.metrics.leaseAcquired('space-1');
    server.metrics.setLeaseOwned('space-2', false);

    const r = await fetch(`${server.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    expect(sample(text, 'attune_connections{role="participant"}')).toBe(1);
    expect(sample(text, 'attune_connections{role="display"}')).toBe(1);
    expect(sample(text, 'attune_inputs_received_total')).toBe(1);
    expect(sample(text, 'attune_inputs_acknowledged_total')).toBe(1);
    expect(sample(text, 'attune_ack_latency_seconds_count')).toBe(1);
    expect(sample(text, 'attune_tick_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'attune_pulses_dropped_backpressure_total{role="display"}')).toBe(0);
    expect(sample(text, 'attune_dependency_up{dependency="storage",kind="memory"}')).toBe(1);
    expect(sample(text, 'attune_dependency_up{dependency="bus",kind="local"}')).toBe(1);
    expect(sample(text, 'attune_tick_lease_owned{space="space-1"}')).toBe(1);
    expect(sample(text, 'attune_tick_lease_owned{space="space-2"}')).toBe(0);
    expect(sample(text, 'attune_tick_lease_acquired_total{space="space-1"}')).toBe(1);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    const lint = promtool(text);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  });

  it('[O1][W9] a pulse replaced by a newer one before the fan-out reached it is counted once per socket that never got it', async () => {
    const scheduler = new ManualScheduler(Date.now());
    const storage = new MemoryStorage();
    // One socket per slice: each pass of the fan-out takes as many turns as there are participants.
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, participantHz: 0.001, displayHz: 0.001, fanoutSlice: 1 }, { scheduler, storage });
    const code = await space(server);
    const spaceId = (await storage.getSpaceByCode(code))?.id as string;
    const people: TestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await connect(`${server.url.replace('http', 'ws')}/ws`);
      clients.push(p);
      people.push(p);
      p.send({ t: 'join', code, role: 'participant', consent: true });
      await p.next(isType('welcome'));
    }
    scheduler.flush();
    const pulse = (seq: number) => new TextEncoder().encode(JSON.stringify({ t: 'pulse', seq, test: true }));
    // Three pulses while the first pass has reached one socket: the second waits, the third replaces it.
    server.host.bus.publish(subjects.participantPulse(spaceId), pulse(901));
    server.host.bus.publish(subjects.participantPulse(spaceId), pulse(902));
    server.host.bus.publish(subjects.participantPulse(spaceId), pulse(903));
    scheduler.flush();
    for (const p of people) {
      await p.next((m) => m.t === 'pulse' && m.seq === 903);
      expect(p.messages.filter((m) => m.t === 'pulse' && typeof m.seq === 'number' && m.seq > 900).map((m) => m.seq)).toEqual([901, 903]);
    }
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(sample(text, 'attune_pulses_superseded_total{role="participant"}')).toBe(3);
    expect(sample(text, 'attune_pulses_superseded_total{role="display"}')).toBe(0);
    expect(promtool(text).status).toBe(0);
  });

  it('[O1] promtool can fail: prom-client’s own default gauges named *_total are what it rejects (and why metrics.ts drops them)', async () => {
    const { Registry, collectDefaultMetrics } = await import('prom-client');
    const raw = new Registry();
    collectDefaultMetrics({ register: raw });
    const lint = promtool(await raw.metrics());
    expect(lint.status).toBe(3);
    expect(lint.output).toMatch(/nodejs_active_handles_total non-counter metrics should not have "_total" suffix/);
    expect(promtool('attune_x{ 1\n').status).toBe(1);
  });

  it('[O1] a beat of the host is timed by the wrapped scheduler; other timers are not', () => {
    const inner = new ManualScheduler(0);
    const m = new Metrics({ defaults: false });
    let t = 0;
    const sch = timedScheduler(inner, m, () => t);
    sch.every(50, () => {
      t += 3; // the beat holds the loop 3 ms
    });
    sch.at(10, () => {
      t += 100;
    });
    inner.advance(100);
    return m.render().then((text) => {
      // Beats at 0, 50 and 100 ms; the 100 ms timer is not a beat.
      expect(sample(text, 'attune_tick_duration_seconds_count')).toBe(3);
      expect(sample(text, 'attune_tick_duration_seconds_sum')).toBeCloseTo(0.009, 6);
    });
  });

  it('[O3] /readyz is 200 with storage and bus up; 503 naming postgres when its connection is killed, and nats when the bus connection is gone', async () => {
    const schema = await schemas.fresh('attune_ops');
    const name = `attune_ops_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const storage = await PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}`, applicationName: name });
    const bus = await NatsBus.connect({ servers: '127.0.0.1:4222', prefix: name });
    server = await createServer({ port: 0, webRoot: null, dataDir: mkdtempSync(join(tmpdir(), 'attune-ops-')) }, { storage, bus });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      draining: false,
      checks: [
        { name: 'storage', kind: 'postgres', up: true },
        { name: 'bus', kind: 'nats', up: true },
      ],
    });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    await admin((c) => c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`${name}-writer`]));
    // The writer learns of it at its next write (or at once from the socket): it fails and stays failed.
    await expect(server.host.createSpace({ name: 'after the kill' })).rejects.toThrow(/PostgreSQL writer stopped/);
    const storageDown = await fetch(`${server.url}/readyz`);
    expect(storageDown.status).toBe(503);
    expect(((await storageDown.json()) as { checks: unknown[] }).checks).toEqual([
      { name: 'storage', kind: 'postgres', up: false },
      { name: 'bus', kind: 'nats', up: true },
    ]);
    const m = await (await fetch(`${server.url}/metrics`)).text();
    expect(sample(m, 'attune_dependency_up{dependency="storage",kind="postgres"}')).toBe(0);

    await bus.close();
    const both = (await (await fetch(`${server.url}/readyz`)).json()) as { checks: { up: boolean }[] };
    expect(both.checks.map((c) => c.up)).toEqual([false, false]);
  });

  it('[O3][K1] a cluster node is ready only while its lease store (the NATS KV bucket) answers too', async () => {
    const name = `attune_opskv_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const storage = new MemoryStorage();
    server = await createServer({ port: 0, webRoot: null, minCohort: 1, cluster: { nats: 'nats://127.0.0.1:4222', nodeId: 'ops-kv', name } }, { storage });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: unknown[] }).checks).toEqual([
      { name: 'storage', kind: 'memory', up: true },
      { name: 'bus', kind: 'nats', up: true },
      { name: 'kv', kind: 'nats', up: true },
    ]);
    expect(sample(await (await fetch(`${server.url}/metrics`)).text(), 'attune_dependency_up{dependency="kv",kind="nats"}')).toBe(1);
    // The bucket goes away (an operator's mistake, a JetStream reset): NATS itself still answers.
    const other = await NatsKv.connect({ servers: '127.0.0.1:4222', bucket: `${name}_cluster` });
    await other.destroy();
    await other.close();
    const down = await fetch(`${server.url}/readyz`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { checks: unknown[] }).checks).toEqual([
      { name: 'storage', kind: 'memory', up: true },
      { name: 'bus', kind: 'nats', up: true },
      { name: 'kv', kind: 'nats', up: false },
    ]);
  });

  it('[O6] with a metrics token /metrics answers only its bearer: 401 UNAUTHORIZED without it or with another, 200 with it; /readyz and /healthz stay open', async () => {
    const token = 'scrape-9f2c41d0a7b3e6';
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, metricsToken: token });
    const none = await fetch(`${server.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="attune-metrics"');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}x` } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const basic = await fetch(`${server.url}/metrics`, { headers: { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
    const right = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(right.status).toBe(200);
    const text = await right.text();
    expect(text).toMatch(/^attune_inputs_received_total 0$/m);
    expect(promtool(text).status).toBe(0);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('[O6] the Prometheus scrape configuration in DEPLOY.md (bearer token from a file) passes promtool check config', () => {
    const deploy = readFileSync(join(import.meta.dirname, '..', 'DEPLOY.md'), 'utf8');
    const yaml = /```yaml\n(scrape_configs:[\s\S]*?)```/.exec(deploy)?.[1];
    expect(yaml, 'DEPLOY.md has a yaml block starting scrape_configs:').toBeDefined();
    expect(yaml).toMatch(/authorization:\s+type: Bearer\s+credentials_file: /);
    const dir = mkdtempSync(join(tmpdir(), 'attune-prom-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'scrape-9f2c41d0a7b3e6\n');
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, (yaml as string).replace(/credentials_file: \S+/, `credentials_file: ${tokenFile}`));
    const r = spawnSync(PROMTOOL, ['check', 'config', config], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
    expect(r.status).toBe(0);
    // And it can fail: a misspelt authorization type is refused.
    writeFileSync(config, (yaml as string).replace('type: Bearer', 'type: Bearer\n      credentials: inline-too').replace(/credentials_file: \S+/, `credentials_file: ${tokenFile}`));
    expect(spawnSync(PROMTOOL, ['check', 'config', config], { encoding: 'utf8' }).status).not.toBe(0);
  });

  it('[O4][W8] close drains: /readyz answers 503 while sockets stay open for drainMs, then every client gets bye (shutdown) and 1001', async () => {
    const scheduler = new ManualScheduler(Date.now());
    server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, drainMs: 5000 }, { scheduler });
    const code = await space(server);
    const p = await connect(`${server.url.replace('http', 'ws')}/ws`);
    clients.push(p);
    p.send({ t: 'join', code, role: 'participant', consent: true });
    await p.next(isType('welcome'));
    const url = server.url;
    const closing = server.close();
    const during = await fetch(`${url}/readyz`);
    expect(during.status).toBe(503);
    expect(((await during.json()) as { draining: boolean }).draining).toBe(true);
    // Still connected and acknowledged meanwhile: inputs in the drain window are not lost.
    p.send({ t: 'input', seq: 1, valence: 0.1, arousal: 0.1 });
    await p.next(isType('ack'));
    scheduler.advance(5000);
    await closing;
    expect(p.messages.find((m) => m.t === 'bye')).toEqual({ t: 'bye', reason: 'shutdown' });
    expect((await p.closed).code).toBe(1001);
    server = null;
  });
});
