/**
 * Restart recovery (SPEC S6): a server restarted on the same SQLite file resumes every open
 * space with its participants' unexpired points, and participants resume by token; the
 * steward's feed settings (S13) come back in force.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, createServer } from '../src/server/createServer.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { hasOscdump, type Oscdump, startOscdump } from './support/oscdump.ts';
import { connect, isType, type TestClient } from './support/wsClient.ts';

let server: RunningServer | null = null;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

describe('restart', () => {
  it('[S6] resumes spaces, points and sessions from SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-restart-'));
    const dbPath = join(dir, 'attune.db');
    server = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 1 });
    const port = server.port;
    const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'persistent' }) });
    const { code, stewardToken } = (await r.json()) as { code: string; stewardToken: string };
    const c = await connect(`${server.url.replace('http', 'ws')}/ws`);
    clients.push(c);
    c.send({ t: 'join', code, consent: true });
    const token = String((await c.next(isType('welcome'))).token);
    c.send({ t: 'input', seq: 1, valence: -0.4, arousal: 0.6 });
    await c.next(isType('ack'));
    await server.close();
    const bye = c.messages.find(isType('bye'));
    expect(bye).toMatchObject({ reason: 'shutdown' });

    server = await createServer({ port, dbPath, webRoot: null, minCohort: 1 });
    const pulse = (await (await fetch(`${server.url}/api/spaces/${code}/pulse`)).json()) as { count: number; mean: { valence: number } };
    expect(pulse.count).toBe(1);
    expect(pulse.mean.valence).toBeCloseTo(-0.4);
    const d = await connect(`${server.url.replace('http', 'ws')}/ws`);
    clients.push(d);
    d.send({ t: 'resume', token });
    const w = await d.next(isType('welcome'));
    expect(w.you).toMatchObject({ valence: -0.4, arousal: 0.6 });
    expect(w.lastSeq).toBe(1);
    d.send({ t: 'input', seq: 2, valence: 0.5, arousal: 0.5 });
    expect(await d.next(isType('ack'))).toMatchObject({ seq: 2 });
    // The steward token still works after the restart.
    const close = await fetch(`${server.url}/api/spaces/${code}/close`, { method: 'POST', headers: { authorization: `Bearer ${stewardToken}` } });
    expect(close.status).toBe(200);
    // The admin token persists beside the database.
    const list = await fetch(`${server.url}/api/spaces`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(list.status).toBe(200);
  });
});

describe('restart: feed settings', () => {
  const dumps: Oscdump[] = [];
  let receiver: HttpServer | null = null;
  afterEach(async () => {
    for (const d of dumps.splice(0)) d.stop();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    receiver = null;
  });

  it.runIf(hasOscdump)('[S13][F1][F3][F4] OSC targets, webhooks (their secrets never in the database), allow-lists and the delivery log come back and deliver', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-restart-feeds-'));
    const dbPath = join(dir, 'attune.db');
    const scheduler = new ManualScheduler(Date.now());
    const dump = await startOscdump();
    dumps.push(dump);
    // A webhook receiver that checks each signature with the secret the steward was given.
    let secret = '';
    const got: { type: string; verified: boolean }[] = [];
    receiver = createHttpServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      req.on('end', () => {
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['attune-signature'] ?? ''));
        const verified = !!m && createHmac('sha256', secret).update(`${m[1]}.${body}`).digest('hex') === m[2];
        got.push({ type: (JSON.parse(body) as { type: string }).type, verified });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver?.listen(0, '127.0.0.1', () => r()));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    server = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 1 }, { scheduler });
    const made = await server.host.createSpace({ name: 'installation' });
    if (!made.ok) throw new Error(made.message);
    const { code } = made.value.space;
    const api = `${server.url}/api/spaces/${code}`;
    const auth = { authorization: `Bearer ${made.value.stewardToken}`, 'content-type': 'application/json' };
    const put = (path: string, body: unknown) => fetch(`${api}/${path}`, { method: 'PUT', headers: auth, body: JSON.stringify(body) });
    expect((await put('osc', { targets: [`127.0.0.1:${dump.port}`] })).status).toBe(200);
    expect((await put('embed', { origins: ['https://venue.example'] })).status).toBe(200);
    const added = await fetch(`${api}/webhooks`, { method: 'POST', headers: auth, body: JSON.stringify({ url: hookUrl, events: ['display.mode'] }) });
    const hook = (await added.json()) as { id: string; secret: string };
    secret = hook.secret;
    expect((await put('display-mode', { mode: 'threads' })).status).toBe(200);
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(1);
    await server.feeds.webhooks.idle();
    await server.close();
    server = null;

    // A copy of the database holds the subscription but not its secret.
    const copy = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('attune.db')).map((f) => readFileSync(join(dir, f))));
    expect(copy.includes(hook.id)).toBe(true);
    expect(copy.includes(secret)).toBe(false);
    expect(copy.includes(secret.slice('whsec_'.length, 20))).toBe(false);

    server = await createServer({ port: 0, dbPath, webRoot: null, minCohort: 1 }, { scheduler });
    const api2 = `${server.url}/api/spaces/${code}`;
    const get = async (path: string) => (await fetch(`${api2}/${path}`, { headers: auth })).json();
    expect(await get('osc')).toMatchObject({ targets: [`127.0.0.1:${dump.port}`] });
    expect(await get('embed')).toEqual({ origins: ['https://venue.example'] });
    const hooks = (await get('webhooks')) as { webhooks: { id: string; url: string }[]; deliveries: { outcome: string; type: string }[] };
    expect(hooks.webhooks).toEqual([expect.objectContaining({ id: hook.id, url: hookUrl })]);
    expect(hooks.deliveries).toEqual([expect.objectContaining({ outcome: 'delivered', type: 'display.mode' })]);
    // The allow-list is the display page's frame-ancestors again.
    expect((await fetch(`${server.url}/d/${code}`)).headers.get('content-security-policy')).toContain("frame-ancestors 'self' https://venue.example");
    // The space is watched again for its OSC target: display pulses reach oscdump.
    await expect.poll(() => server?.host.presence(made.value.space.id).feeds, { timeout: 5000 }).toBe(1);
    scheduler.advance(500);
    await expect.poll(() => dump.output().includes(`/attune/${code}/count i`), { timeout: 5000 }).toBe(true);
    // The webhook delivers, signed with the secret given before the restart.
    expect((await fetch(`${api2}/display-mode`, { method: 'PUT', headers: auth, body: JSON.stringify({ mode: 'kaleidoscope' }) })).status).toBe(200);
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(2);
    expect(got).toEqual([
      { type: 'display.mode', verified: true },
      { type: 'display.mode', verified: true },
    ]);
    await server.feeds.webhooks.idle();
    expect(((await get('webhooks')) as { deliveries: unknown[] }).deliveries).toHaveLength(2);
  }, 30_000);
});
