/**
 * Signed webhooks against a real HTTP receiver: the receiver checks the HMAC-SHA256 signature
 * over "<t>.<body>" with the secret the steward got, answers 500 twice, then 200; the server
 * retries on the host's scheduler after 1 s and 2 s, and the steward's delivery log shows every
 * attempt. Time is a manual scheduler: the retries happen when the test moves it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyJson } from '../../src/core/policy/policyJson.ts';
import { signWebhook } from '../../src/feeds/webhooks/webhookBook.ts';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';
import { ManualScheduler } from '../../src/space/scheduler.ts';

interface Received {
  readonly body: string;
  readonly signature: string;
  readonly attempt: string;
  readonly verified: boolean;
}

let server: RunningServer;
let receiver: Server;
let receiverUrl = '';
let secret = '';
const received: Received[] = [];
const notified: Received[] = [];
let failuresLeft = 2;
const scheduler = new ManualScheduler(Date.now());

/** A receiver's check, as ARTISTS.md shows it: recompute, compare in constant time, refuse stale. */
function verify(secretKey: string, header: string, body: string, nowSec: number): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowSec - t) > 300) return false;
  const expected = createHmac('sha256', secretKey).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2] as string, 'hex'));
}

beforeAll(async () => {
  receiver = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      const signature = String(req.headers['attune-signature'] ?? '');
      const entry = { body, signature, attempt: String(req.headers['attune-attempt'] ?? ''), verified: verify(secret, signature, body, Math.floor(Date.now() / 1000)) };
      // The notify test has its own path (other spaces' hooks keep delivering meanwhile).
      if (req.url === '/notify') {
        notified.push(entry);
        res.statusCode = notified.length === 1 ? 500 : 200;
        res.end();
        return;
      }
      received.push(entry);
      res.statusCode = failuresLeft-- > 0 ? 500 : 200;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null }, { scheduler });
});

afterAll(async () => {
  await server?.close();
  await new Promise<void>((r) => receiver.close(() => r()));
});

describe('webhooks', () => {
  it('[F3] a mode change is delivered signed; a 500 is retried after 1 s and 2 s; the log shows each attempt', async () => {
    const made = await server.host.createSpace({ name: 'hooks' });
    if (!made.ok) throw new Error(made.message);
    const { code } = made.value.space;
    const auth = { authorization: `Bearer ${made.value.stewardToken}`, 'content-type': 'application/json' };
    const api = `${server.url}/api/spaces/${code}`;

    expect((await fetch(`${api}/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl }) })).status).toBe(401);
    const add = await fetch(`${api}/webhooks`, { method: 'POST', headers: auth, body: JSON.stringify({ url: receiverUrl, events: ['display.mode', 'decision'] }) });
    expect(add.status).toBe(201);
    const hook = (await add.json()) as { id: string; secret: string; events: string[] };
    secret = hook.secret;
    expect(secret).toMatch(/^whsec_/);

    const put = await fetch(`${api}/display-mode`, { method: 'PUT', headers: auth, body: JSON.stringify({ mode: 'kaleidoscope' }) });
    expect(put.status).toBe(200);
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(1);
    await server.feeds.webhooks.idle();
    scheduler.advance(999);
    expect(received.length).toBe(1); // not before its back-off
    scheduler.advance(1);
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(2);
    await server.feeds.webhooks.idle();
    scheduler.advance(2000);
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(3);
    await server.feeds.webhooks.idle();

    expect(received.map((r) => r.attempt)).toEqual(['1', '2', '3']);
    expect(received.every((r) => r.verified)).toBe(true);
    // The same event each time (same id and body), signed afresh with the time of each attempt.
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    const payload = JSON.parse(received[0]?.body ?? '{}') as { event: string; type: string; space: string; data: { mode: string; by: string } };
    expect(payload).toMatchObject({ event: 'display.mode', type: 'display.mode', space: code, data: { mode: 'kaleidoscope', by: 'steward' } });
    // A forged or altered body does not verify.
    expect(verify(secret, received[0]?.signature ?? '', `${received[0]?.body} `, Math.floor(Date.now() / 1000))).toBe(false);
    expect(verify('whsec_other', received[0]?.signature ?? '', received[0]?.body ?? '', Math.floor(Date.now() / 1000))).toBe(false);

    const log = (await (await fetch(`${api}/webhooks`, { headers: auth })).json()) as { webhooks: { id: string }[]; deliveries: { attempt: number; status: number; outcome: string; nextAttemptAt?: number }[] };
    expect(log.webhooks.map((w) => w.id)).toEqual([hook.id]);
    expect(JSON.stringify(log)).not.toContain(secret);
    expect(log.deliveries.map((d) => [d.attempt, d.status, d.outcome])).toEqual([
      [3, 200, 'delivered'],
      [2, 500, 'retrying'],
      [1, 500, 'retrying'],
    ]);
  });

  it('[F3] an alert the released pulse raises is delivered as alert.raised', async () => {
    failuresLeft = 0;
    received.length = 0;
    const made = await server.host.createSpace({ name: 'alerts' });
    if (!made.ok) throw new Error(made.message);
    const { code } = made.value.space;
    const add = await fetch(`${server.url}/api/spaces/${code}/webhooks`, { method: 'POST', headers: { authorization: `Bearer ${made.value.stewardToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl, events: ['alert'] }) });
    secret = ((await add.json()) as { secret: string }).secret;
    await Promise.resolve(); // the feed joins as a display after this turn
    const refs: number[] = [];
    for (let i = 0; i < 12; i++) {
      const ref = server.host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
      await server.host.join(ref, code, 'participant', true);
      server.host.input(ref, { t: 'input', seq: 1, valence: i % 2 ? 0.7 : -0.6, arousal: i % 2 ? 0.6 : -0.5, confidence: 1, source: 'tap' }, false);
      refs.push(ref);
    }
    scheduler.advance(3000);
    // The whole room moves to one corner: the change detector raises an alert.
    for (let s = 0; s < 60 && !received.some((r) => r.body.includes('"alert.raised"')); s++) {
      for (const ref of refs) server.host.input(ref, { t: 'input', seq: s + 2, valence: 0.8, arousal: 0.8, confidence: 1, source: 'tap' }, true);
      scheduler.advance(1000);
      await server.feeds.webhooks.idle();
    }
    const raised = received.find((r) => r.body.includes('"alert.raised"'));
    expect(raised?.verified).toBe(true);
    const payload = JSON.parse(raised?.body ?? '{}') as { event: string; space: string; data: { id: string; metrics: unknown[] } };
    expect(payload).toMatchObject({ event: 'alert', space: code });
    expect(payload.data.metrics.length).toBeGreaterThan(0);
  });

  it('[Q5][Q13][F3] a notify policy sends a notification: stored for the steward and council, and a signed notify webhook, retried after a 500', async () => {
    const made = await server.host.createSpace({ name: 'notify' });
    if (!made.ok) throw new Error(made.message);
    const { code } = made.value.space;
    const steward = made.value.stewardToken;
    const json = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
    const api = `${server.url}/api/spaces/${code}`;
    const add = await fetch(`${api}/webhooks`, { method: 'POST', headers: json(steward), body: JSON.stringify({ url: receiverUrl.replace(/\/hook$/, '/notify'), events: ['notify'] }) });
    secret = ((await add.json()) as { secret: string }).secret;
    expect((await fetch(`${api}/council`, { method: 'POST', headers: json(steward), body: JSON.stringify({ rules: { quorum: 1 } }) })).status).toBe(201);
    const member = ((await (await fetch(`${api}/council/members`, { method: 'POST', headers: json(steward), body: JSON.stringify({ name: 'Ada' }) })).json()) as { memberToken: string }).memberToken;
    const policy = policyJson({ name: 'tell the council', when: 'pulse.count >= 3.0', action: { notify: { audience: 'council', message: 'the room is full' } }, cooldownSeconds: 3600 });
    const proposed = (await (await fetch(`${api}/council/proposals`, { method: 'POST', headers: json(member), body: JSON.stringify({ policy }) })).json()) as { proposal: string };
    await fetch(`${api}/council/proposals/${proposed.proposal}/votes`, { method: 'POST', headers: json(member), body: JSON.stringify({ vote: 'yes' }) });
    // Nothing sent yet; a notification list needs a steward or member token.
    expect((await fetch(`${api}/notifications`)).status).toBe(401);
    expect(await (await fetch(`${api}/notifications`, { headers: json(member) })).json()).toEqual({ audience: 'council', latest: 0, notifications: [] });
    for (let i = 0; i < 6; i++) {
      const ref = server.host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
      await server.host.join(ref, code, 'participant', true);
      server.host.input(ref, { t: 'input', seq: 1, valence: 0.1, arousal: 0.2, confidence: 1, source: 'tap' }, false);
    }
    for (let s = 0; s < 20 && notified.length === 0; s++) {
      scheduler.advance(500);
      await new Promise((r) => setTimeout(r, 5));
      await server.feeds.webhooks.idle();
    }
    await expect.poll(() => notified.length, { timeout: 5000 }).toBe(1);
    await server.feeds.webhooks.idle();
    scheduler.advance(1000);
    await expect.poll(() => notified.length, { timeout: 5000 }).toBe(2);
    expect(notified.every((r) => r.verified)).toBe(true);
    expect(notified.map((r) => r.attempt)).toEqual(['1', '2']);
    const payload = JSON.parse(notified[1]?.body ?? '{}') as { event: string; type: string; data: { n: number; audience: string; message: string; policy: { name: string }; entry: number } };
    expect(payload).toMatchObject({ event: 'notify', type: 'notify.council', data: { n: 1, audience: 'council', message: 'the room is full', policy: { name: 'tell the council' }, entry: expect.any(Number) } });
    // The same notification on its own channel: the member and the steward read it with their tokens.
    const asMember = (await (await fetch(`${api}/notifications`, { headers: json(member) })).json()) as { audience: string; latest: number; notifications: { n: number; message: string }[] };
    expect(asMember).toMatchObject({ audience: 'council', latest: 1, notifications: [{ n: 1, message: 'the room is full' }] });
    expect(await (await fetch(`${api}/notifications?after=1`, { headers: json(steward) })).json()).toEqual({ audience: 'steward', latest: 1, notifications: [] });
    expect((await fetch(`${api}/notifications?after=-1`, { headers: json(steward) })).status).toBe(400);
    expect((await fetch(`${api}/notifications`, { headers: json('not-a-token') })).status).toBe(401);
  });

  it('[F3] the signature is HMAC-SHA256 over "<t>.<body>" (a known answer)', () => {
    // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
    expect(signWebhook('whsec_test', 1_700_000_000, '{"a":1}')).toBe('t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789');
  });
});
