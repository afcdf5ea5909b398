/**
 * Gaps of one space on several nodes closed (SPEC §K), each over real `attune serve --cluster`
 * processes, the machine's real nats-server (JetStream KV) and PostgreSQL, each run in a cluster
 * name and a schema of its own (bench/support/attuneNodes.ts): a new space has a tick owner from
 * its first beat (K2); a display mode chosen through one node reaches every node's SSE stream
 * (K12).
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { NatsKv } from '../src/bus/nats/natsKv.ts';
import { decodeLease } from '../src/core/cluster/lease.ts';
import { type AttuneNode, type ClusterEnv, clusterEnv, NATS_URL } from '../bench/support/attuneNodes.ts';

const envs: ClusterEnv[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const e of envs.splice(0)) await e.dispose();
});

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function createSpace(node: AttuneNode, name: string): Promise<{ code: string; id: string; stewardToken: string }> {
  const r = await fetch(`${node.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  expect(r.status).toBe(201);
  return (await r.json()) as { code: string; id: string; stewardToken: string };
}

/** A display socket on one node, resolved once welcomed. */
function displayJoined(node: AttuneNode, code: string): Promise<WebSocket> {
  const ws = new WebSocket(node.wsUrl, { perMessageDeflate: false });
  sockets.push(ws);
  ws.on('error', () => {});
  ws.on('open', () => ws.send(JSON.stringify({ t: 'join', code, role: 'display' })));
  return new Promise((res) => ws.on('message', (d) => (JSON.parse(String(d)) as { t: string }).t === 'welcome' && res(ws)));
}

/** The `event: mode` data of a space's SSE stream on one node (`?events=mode`), as they arrive. */
function modeEvents(node: AttuneNode, code: string): { readonly modes: { mode: string; by: string }[]; stop(): void } {
  const modes: { mode: string; by: string }[] = [];
  const ctl = new AbortController();
  void (async () => {
    const res = await fetch(`${node.url}/api/spaces/${code}/stream?events=mode`, { signal: ctl.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (/^event: mode$/m.test(block) && data) modes.push(JSON.parse(data) as { mode: string; by: string });
      }
    }
  })().catch(() => {});
  return { modes, stop: () => ctl.abort() };
}

describe('cluster gaps closed (attune processes, NATS + PostgreSQL)', () => {
  it('[K2] the node that creates a space takes its tick lease before it answers: a pulse to read at once, seq 1, no pulse lost at the start', { timeout: 60_000 }, async () => {
    const env = await clusterEnv({ prefix: 'cgl' });
    envs.push(env);
    const [n1, n2] = [await env.start('n1'), await env.start('n2')];
    const kv = await NatsKv.connect({ servers: NATS_URL.slice('nats://'.length), bucket: `${env.name}_cluster` });
    try {
      for (const [i, node] of [n1, n2, n1].entries()) {
        const { code, id } = await createSpace(node as AttuneNode, `fresh ${i}`);
        // Straight after the 201: the creator holds the lease (compare-and-set `create`) …
        const lease = await kv.get(`lease.${id}`);
        expect(lease).not.toBeNull();
        expect(decodeLease((lease as { value: Uint8Array }).value).node).toBe(node?.id);
        // … and has already published its first beat (H5), numbered 1.
        const pulse = await fetch(`${node?.url}/api/spaces/${code}/pulse`);
        expect(pulse.status).toBe(200);
        expect(((await pulse.json()) as { seq: number }).seq).toBe(1);
      }
    } finally {
      await kv.close();
    }
  });

  it('[K12][F2] a display mode chosen through nodes that do not own the tick reaches the SSE mode stream of every node; one log entry each', { timeout: 60_000 }, async () => {
    const env = await clusterEnv({ prefix: 'cgm' });
    envs.push(env);
    const nodes = [await env.start('n1'), await env.start('n2'), await env.start('n3')];
    const [n1, n2, n3] = nodes as [AttuneNode, AttuneNode, AttuneNode];
    // Created on n1, which owns the tick from its first beat (K2).
    const { code, stewardToken } = await createSpace(n1, 'modes');
    // A display on every node: the space is open there (its first join opens it, §K).
    await Promise.all(nodes.map((n) => displayJoined(n, code)));
    const streams = nodes.map((n) => modeEvents(n, code));
    try {
      await until('the first mode event on every stream', () => streams.every((s) => s.modes.length === 1));
      for (const s of streams) expect(s.modes[0]?.mode).toBe('field');
      const put = async (n: AttuneNode, mode: string) => {
        const r = await fetch(`${n.url}/api/spaces/${code}/display-mode`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${stewardToken}` }, body: JSON.stringify({ mode }) });
        expect(r.status).toBe(200);
      };
      // Through n2 (forwarded to the owner n1, which applies it), then through n3.
      await put(n2, 'threads');
      await until('threads on every node', () => streams.every((s) => s.modes.at(-1)?.mode === 'threads'));
      await put(n3, 'kaleidoscope');
      await until('kaleidoscope on every node', () => streams.every((s) => s.modes.at(-1)?.mode === 'kaleidoscope'));
      for (const s of streams) {
        expect(s.modes.map((m) => m.mode)).toEqual(['field', 'threads', 'kaleidoscope']);
        expect(s.modes.at(-1)?.by).toBe('steward');
      }
      // Each change is one act on the one log (K9, K12), whichever node announced it.
      const page = (await (await fetch(`${n3.url}/log/entries?start=0&limit=256`)).json()) as { entries: { entry: { type: string } | null }[] };
      expect(page.entries.filter((e) => e.entry?.type === 'display.changed')).toHaveLength(2);
    } finally {
      for (const s of streams) s.stop();
    }
  });
});
