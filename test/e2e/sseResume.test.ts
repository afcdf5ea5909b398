/**
 * The SSE feed in Chromium's own EventSource: pulses arrive as `event: pulse` with the pulse's
 * seq as id; when the server sheds the stream, the browser reconnects by itself with
 * `Last-Event-ID`, and gets exactly the pulses published while it was away — none lost, none
 * twice. Time is the host's manual scheduler: pulses are published only when the test says.
 */
import { Hono } from 'hono';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';
import { ManualScheduler } from '../../src/space/scheduler.ts';
import { launchChromium } from '../support/chromium.ts';

let server: RunningServer;
let browser: Browser;
const scheduler = new ManualScheduler(Date.now());

beforeAll(async () => {
  // An empty page of the server's own origin (under the pages' CSP, connect-src 'self').
  const blank = new Hono().get('/', (c) => c.html('<!doctype html><title>sse</title>'));
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 2 }, { scheduler, mounts: [{ path: '/blank', app: blank }] });
  browser = await launchChromium([], { buildWeb: false });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('SSE stream', () => {
  it('[F2] EventSource resumes with Last-Event-ID: every pulse once, in order, across a reconnect', async () => {
    const made = await server.host.createSpace({ name: 'sse' });
    if (!made.ok) throw new Error(made.message);
    const { code } = made.value.space;
    for (const [v, a] of [[0.5, 0.5], [-0.5, 0.2], [0.1, -0.7]] as const) {
      const ref = server.host.attach({ send: () => {}, close: () => {}, welcomed: () => {} });
      await server.host.join(ref, code, 'participant', true);
      server.host.input(ref, { t: 'input', seq: 1, valence: v, arousal: a, confidence: 1, source: 'tap' }, false);
    }
    const page = await (await browser.newContext()).newPage();
    const lastEventIds: Promise<string>[] = [];
    page.on('request', (r) => {
      // allHeaders: the headers as sent on the network (EventSource adds Last-Event-ID there).
      if (r.url().includes('/stream')) lastEventIds.push(r.allHeaders().then((h) => h['last-event-id'] ?? ''));
    });
    await page.goto(`${server.url}/blank`);
    await page.evaluate((url) => {
      const w = window as unknown as { got: { id: string; seq: number; count: number }[]; modes: string[]; es: EventSource };
      w.got = [];
      w.modes = [];
      w.es = new EventSource(url);
      w.es.addEventListener('pulse', (e) => {
        const p = JSON.parse((e as MessageEvent).data) as { seq: number; count: number };
        w.got.push({ id: (e as MessageEvent).lastEventId, seq: p.seq, count: p.count });
      });
      w.es.addEventListener('mode', (e) => w.modes.push(JSON.parse((e as MessageEvent).data).mode));
    }, `/api/spaces/${code}/stream`);
    const got = () => page.evaluate(() => (window as unknown as { got: { id: string; seq: number; count: number }[] }).got);
    const readyState = () => page.evaluate(() => (window as unknown as { es: EventSource }).es.readyState);
    await expect.poll(readyState, { timeout: 10_000 }).toBe(1);
    // The stream made the feed watch the space as a display (a feed in presence, not a display socket).
    await expect.poll(() => server.host.presence(made.value.space.id).feeds, { timeout: 10_000 }).toBe(1);

    scheduler.advance(1000); // 20 pulses at 20 Hz
    await expect.poll(async () => (await got()).length, { timeout: 10_000 }).toBe(20);
    const firstSeq = (await got())[0]?.seq as number;
    expect((await got()).at(-1)?.seq).toBe(firstSeq + 19);

    // The server sheds its streams; the browser notices and waits its retry delay.
    server.feeds.history.dropStreams();
    await expect.poll(readyState, { timeout: 10_000 }).toBe(0);
    const before = (await got()).length;
    scheduler.advance(500); // 10 pulses while the browser is away
    await expect.poll(readyState, { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => (await got()).at(-1)?.seq, { timeout: 10_000 }).toBe(firstSeq + 29);
    scheduler.advance(250); // and live again
    await expect.poll(async () => (await got()).at(-1)?.seq, { timeout: 10_000 }).toBe(firstSeq + 34);

    const all = await got();
    expect(all.map((g) => g.seq)).toEqual(Array.from({ length: 35 }, (_, i) => firstSeq + i));
    expect(all.every((g) => g.id === String(g.seq) && g.count === 3)).toBe(true);
    expect(all.length - before).toBe(15);
    // The second request carried the last id the browser had seen.
    expect(await Promise.all(lastEventIds)).toEqual(['', String(firstSeq + 19)]);
    expect(await page.evaluate(() => (window as unknown as { modes: string[] }).modes)).toEqual(['field', 'field']);
  }, 60_000);

  it('[F2] a resume point older than the kept pulses says so with a gap event', async () => {
    const made = await server.host.createSpace({ name: 'gap' });
    if (!made.ok) throw new Error(made.message);
    const hold = await server.feeds.audience.hold(made.value.space.code);
    scheduler.advance(20_000); // 400 pulses: more than the 200 kept
    hold?.release();
    const ctl = new AbortController();
    const res = await fetch(`${server.url}/api/spaces/${made.value.space.code}/stream`, { headers: { 'last-event-id': '5' }, signal: ctl.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: pulse')) text += new TextDecoder().decode((await reader.read()).value);
    ctl.abort();
    const gap = /event: gap\ndata: (.*)\n/.exec(text);
    expect(gap).not.toBeNull();
    expect(JSON.parse(gap?.[1] ?? '{}')).toMatchObject({ after: 5 });
  });
});
