/**
 * Gaps of one space on several nodes closed (SPEC §K), each over real `attune serve --cluster`
 * processes, the machine's real nats-server (JetStream KV) and PostgreSQL, each run in a cluster
 * name and a schema of its own (bench/support/attuneNodes.ts): a new space has a tick owner from
 * its first beat (K2); a display mode chosen through one node reaches every node's SSE stream
 * (K12); the council's opt-out and failed-evaluation counts are the space's, on every node (K12);
 * a decision logged by an owner killed before it applied it takes effect on the taker (K12, M5).
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { NatsKv } from '../src/bus/nats/natsKv.ts';
import { decodeLease } from '../src/core/cluster/lease.ts';
import { policyJson } from '../src/core/policy/policyJson.ts';
import { type AttuneNode, type ClusterEnv, clusterEnv, NATS_URL } from '../bench/support/attuneNodes.ts';
import { joinSpace, type RecordedClient } from './support/wsClient.ts';

const envs: ClusterEnv[] = [];
const sockets: WebSocket[] = [];
const clients: RecordedClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.stop();
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

  it('[K12][Q8][Q6] opt-outs through any node and failed policy evaluations on the owner are one count on every node’s council view; a taker after kill -9 of the owner counts on', { timeout: 90_000 }, async () => {
    const env = await clusterEnv({ prefix: 'cgo' });
    envs.push(env);
    const k = ['--min-cohort', '3'];
    const nodes = [await env.start('n1', k), await env.start('n2', k), await env.start('n3', k)];
    const [n1, n2, n3] = nodes as [AttuneNode, AttuneNode, AttuneNode];
    // n1 owns the tick (it created the space, K2); everyone is on n2 and n3, so n1 can die.
    const { code, id, stewardToken } = await createSpace(n1, 'opt-outs');
    const people: { c: RecordedClient; token: string }[] = [];
    for (const node of [n2, n2, n3, n3]) {
      const c = joinSpace(node.wsUrl, code, { urls: [n2.wsUrl, n3.wsUrl].filter((u) => u !== node.wsUrl) });
      clients.push(c);
      const w = await c.next('welcome', undefined, 10_000);
      people.push({ c, token: String(w.token) });
      c.client.send({ valence: 0.4, arousal: 0.2 });
    }
    const council = async (n: AttuneNode) => (await (await fetch(`${n.url}/api/spaces/${code}/council`)).json()) as { optOuts: number | null; evalErrors: number };
    // Three opt-outs, each through a different node (one through the owner, which holds nobody).
    for (const [i, n] of [n1, n2, n3].entries()) {
      const r = await fetch(`${n.url}/api/spaces/${code}/feedback/opt-out`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${people[i]?.token}` }, body: JSON.stringify({ optOut: true }) });
      expect(r.status).toBe(200);
    }
    // Released only at ≥ k = 3 (R1): one node's own count (1) would read null.
    await until('three opt-outs on every node', async () => (await Promise.all(nodes.map(council))).every((v) => v.optOuts === 3));

    // A policy whose expression fails at run time (integer division by zero): counted, never fired (Q6).
    const post = async (n: AttuneNode, path: string, token: string, body: unknown) => {
      const x = await fetch(`${n.url}/api/spaces/${code}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      return { status: x.status, json: (await x.json()) as Record<string, unknown> };
    };
    expect((await post(n2, '/council', stewardToken, { rules: { quorum: 1 } })).status).toBe(201);
    const member = String((await post(n3, '/council/members', stewardToken, { name: 'Ada' })).json.memberToken);
    const broken = policyJson({ name: 'divides by zero', when: 'int(pulse.count) / 0 > 1', action: { feedback: { mode: 'calm', minutes: 10 } }, cooldownSeconds: 60 });
    const proposal = await post(n2, '/council/proposals', member, { policy: broken });
    expect(proposal.status).toBe(201);
    expect((await post(n3, `/council/proposals/${String(proposal.json.proposal)}/votes`, member, { vote: 'yes' })).json).toMatchObject({ status: 'adopted' });
    // Everyone moves, so the live release (R7) releases the pulse and the policy is evaluated.
    for (const p of people) p.c.client.send({ valence: -0.3, arousal: 0.6 });
    // Only the owner evaluates: the others show its count (without it they would show 0).
    await until('failed evaluations counted on every node', async () => (await Promise.all(nodes.map(council))).every((v) => v.evalErrors >= 6), 20_000);
    const before = Math.min(...(await Promise.all([n2, n3].map(council))).map((v) => v.evalErrors));
    const log = (await (await fetch(`${n2.url}/log/entries?start=0&limit=256`)).json()) as { entries: { entry: { type: string } | null }[] };
    expect(log.entries.filter((e) => e.entry?.type === 'policy.fired')).toHaveLength(0);

    // kill -9 the owner: the taker's figures go on from the dead owner's, and it knows every opt-out.
    n1.kill();
    const kv = await NatsKv.connect({ servers: NATS_URL.slice('nats://'.length), bucket: `${env.name}_cluster` });
    try {
      await until('a new owner', async () => {
        const e = await kv.get(`lease.${id}`);
        const owner = e ? decodeLease(e.value).node : null;
        return owner === 'n2' || owner === 'n3';
      }, 10_000);
    } finally {
      await kv.close();
    }
    await until('the taker counting on', async () => (await Promise.all([n2, n3].map(council))).every((v) => v.evalErrors > before + 2), 20_000);
    for (const v of await Promise.all([n2, n3].map(council))) expect(v.optOuts).toBe(3);
    // Back in through n3: one fewer everywhere (2 < k: withheld, R1).
    const back = await fetch(`${n3.url}/api/spaces/${code}/feedback/opt-out`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${people[0]?.token}` }, body: JSON.stringify({ optOut: false }) });
    expect(back.status).toBe(200);
    await until('two opt-outs (withheld) on both nodes', async () => (await Promise.all([n2, n3].map(council))).every((v) => v.optOuts === null));
  });

  it('[K12][M5] a decision the owner logged and died before applying (kill -9 between log and apply) takes effect on the taker, once: logged once, applied from the log', { timeout: 90_000 }, async () => {
    const env = await clusterEnv({ prefix: 'cgr' });
    envs.push(env);
    const k = ['--min-cohort', '3'];
    // n1 kills itself (SIGKILL) as soon as a policy.fired entry is durable, before it applies it.
    const n1 = await env.start('n1', k, { env: { ATTUNE_CRASH_AFTER_LOG: 'policy.fired' } });
    const n2 = await env.start('n2', k);
    const { code, stewardToken } = await createSpace(n1, 'log before effect');
    // Three people on n2, which survives; they move, so the live release (R7) releases the pulse.
    const people: RecordedClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = joinSpace(n2.wsUrl, code);
      clients.push(c);
      await c.next('welcome', undefined, 10_000);
      c.client.send({ valence: 0.5, arousal: 0.1 * i });
      people.push(c);
    }
    for (const c of people) c.client.send({ valence: -0.2, arousal: 0.4 });
    const pulseOf = async () => (await (await fetch(`${n2.url}/api/spaces/${code}/pulse`)).json()) as { suppressed: boolean; feedback?: { mode: string; entry: number | null; policy: { name: string } | null } };
    await until('a released pulse of three', async () => (await pulseOf()).suppressed === false);
    // A council and a policy through n2; n1, the owner, takes each act, then fires the policy.
    const post = async (path: string, token: string, body: unknown) => {
      const x = await fetch(`${n2.url}/api/spaces/${code}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      return { status: x.status, json: (await x.json()) as Record<string, unknown> };
    };
    expect((await post('/council', stewardToken, { rules: { quorum: 1 } })).status).toBe(201);
    const member = String((await post('/council/members', stewardToken, { name: 'Ada' })).json.memberToken);
    const calm = policyJson({ name: 'calm with three', when: 'pulse.count >= 3.0', action: { feedback: { mode: 'calm', minutes: 10 } }, cooldownSeconds: 600 });
    const proposal = await post('/council/proposals', member, { policy: calm });
    expect(proposal.status).toBe(201);
    expect((await post(`/council/proposals/${String(proposal.json.proposal)}/votes`, member, { vote: 'yes' })).json).toMatchObject({ status: 'adopted' });
    // The owner fires, logs policy.fired and dies before the effect.
    await n1.exited;
    expect(n1.proc.signalCode).toBe('SIGKILL');
    const fired = async () => {
      const page = (await (await fetch(`${n2.url}/log/entries?start=0&limit=256`)).json()) as { entries: { index: number; entry: { type: string } | null }[] };
      return page.entries.filter((e) => e.entry?.type === 'policy.fired');
    };
    const logged = await fired();
    expect(logged).toHaveLength(1);
    // n2 takes the tick over and applies the logged decision: calm, linked to that very entry.
    await until('calm on the taker', async () => (await pulseOf()).feedback?.mode === 'calm', 15_000);
    const p = await pulseOf();
    expect(p.feedback?.policy?.name).toBe(calm.name);
    expect(p.feedback?.entry).toBe(logged[0]?.index);
    // Applied, not decided again: the cooldown runs from the logged firing, and nothing more is logged.
    const view = (await (await fetch(`${n2.url}/api/spaces/${code}/council`)).json()) as { policies: { fired: number; lastFiredAt: number | null }[] };
    expect(view.policies[0]?.fired).toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await fired()).toHaveLength(1);
  });
});
