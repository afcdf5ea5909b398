/**
 * Stories on a cluster (SPEC ST15), over three real `attune serve --cluster` processes, the
 * machine's real nats-server and PostgreSQL (bench/support/attuneNodes.ts): stories turned on
 * through one node, shared through another than the author's socket, in every node's queue,
 * moderated once however many nodes are asked at the same moment, shown on every node's
 * gathering display released against the whole room's count, withdrawn through a third node —
 * gone from every screen and from the database.
 */
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { type AttuneNode, adminQuery, type ClusterEnv, clusterEnv } from '../bench/support/attuneNodes.ts';
import { joinSpace, type RecordedClient } from './support/wsClient.ts';

let env: ClusterEnv | null = null;
const clients: RecordedClient[] = [];
const sockets: WebSocket[] = [];
afterAll(async () => {
  for (const c of clients) c.stop();
  for (const s of sockets) s.terminate();
  await env?.dispose();
});

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface StoriesFrame {
  readonly suppressed: boolean;
  readonly current: { readonly id: string; readonly text: string } | null;
}

/** A display socket on one node, keeping every `stories` frame it gets. */
function storiesDisplay(node: AttuneNode, code: string): StoriesFrame[] {
  const frames: StoriesFrame[] = [];
  const ws = new WebSocket(node.wsUrl, { perMessageDeflate: false });
  sockets.push(ws);
  ws.on('error', () => {});
  ws.on('open', () => ws.send(JSON.stringify({ t: 'join', code, role: 'display' })));
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { t: string } & StoriesFrame;
    if (m.t === 'stories') frames.push(m);
  });
  return frames;
}

describe('stories on a cluster (three attune processes, NATS + PostgreSQL)', () => {
  it('[ST15][ST6][ST7][ST9][ST11] stories shared, queued, moderated once, shown and withdrawn across three nodes', { timeout: 90_000 }, async () => {
    env = await clusterEnv({ prefix: 'cst' });
    const k = ['--min-cohort', '3'];
    const nodes = [await env.start('n1', k), await env.start('n2', k), await env.start('n3', k)];
    const [n1, n2, n3] = nodes as [AttuneNode, AttuneNode, AttuneNode];
    const made = await fetch(`${n1.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'stories everywhere' }) });
    expect(made.status).toBe(201);
    const { code, id, stewardToken } = (await made.json()) as { code: string; id: string; stewardToken: string };
    const steward = { 'content-type': 'application/json', authorization: `Bearer ${stewardToken}` };
    // [ST1] Turned on through n2 (the owner n1 takes the act); logged once.
    const on = await fetch(`${n2.url}/api/spaces/${code}/stories/settings`, { method: 'PUT', headers: steward, body: JSON.stringify({ enabled: true, moderation: 'pre' }) });
    expect(on.status).toBe(200);

    // Three people: two on n2, one on n3 — the room's count (3 = k) is only the owner's to know.
    const people: { c: RecordedClient; token: string }[] = [];
    for (const node of [n2, n2, n3]) {
      const c = joinSpace(node.wsUrl, code);
      clients.push(c);
      const w = await c.next('welcome', undefined, 10_000);
      people.push({ c, token: String(w.token) });
      c.client.send({ valence: 0.3, arousal: -0.2 });
    }
    for (const p of people) p.c.client.send({ valence: -0.1, arousal: 0.5 });
    const displays = [storiesDisplay(n2, code), storiesDisplay(n3, code)];

    // [ST2] The author (socket on n2) agrees to the story consent and shares through n3.
    const author = people[0] as { c: RecordedClient; token: string };
    const consent = (await (await fetch(`${n1.url}/api/consent`)).json()) as { stories: { version: string } };
    const agreed = await fetch(`${n3.url}/api/me/consent`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${author.token}` }, body: JSON.stringify({ version: consent.stories.version, purpose: 'stories' }) });
    expect(agreed.status).toBe(200);
    const shared = await fetch(`${n3.url}/api/spaces/${code}/stories`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${author.token}` }, body: JSON.stringify({ text: 'The bridge lights came on while we sang.', name: 'K', consent: true }) });
    expect(shared.status).toBe(201);
    const story = (await shared.json()) as { id: string; status: string };
    expect(story.status).toBe('waiting');

    // [ST6] Every node's queue has it (each read from what n3 stored).
    const queue = async (n: AttuneNode) => ((await (await fetch(`${n.url}/api/spaces/${code}/stories/queue`, { headers: steward })).json()) as { stories: { id: string; status: string }[] }).stories;
    await until('the story in every queue', async () => (await Promise.all(nodes.map(queue))).every((q) => q.some((s) => s.id === story.id && s.status === 'waiting')));
    // The author sees it on their own node too.
    const mine = async (n: AttuneNode) => ((await (await fetch(`${n.url}/api/spaces/${code}/stories/mine`, { headers: { authorization: `Bearer ${author.token}` } })).json()) as { stories: { id: string; status: string }[] }).stories;
    expect((await mine(n2)).map((s) => s.id)).toEqual([story.id]);

    // [ST7] Approved through n2 and n3 at the same moment: the owner takes one, refuses the other.
    const decide = (n: AttuneNode) => fetch(`${n.url}/api/spaces/${code}/stories/${story.id}/decision`, { method: 'POST', headers: steward, body: JSON.stringify({ decision: 'approve' }) }).then((r) => r.status);
    const statuses = (await Promise.all([decide(n2), decide(n3)])).sort();
    expect(statuses).toEqual([200, 409]);
    const entries = (await (await fetch(`${n3.url}/log/entries?start=0&limit=256`)).json()) as { entries: { entry: { type: string; space: string | null } | null }[] };
    const ofSpace = entries.entries.filter((e) => e.entry?.space === id).map((e) => e.entry?.type);
    expect(ofSpace.filter((t) => t === 'story.moderated')).toHaveLength(1);
    expect(ofSpace.filter((t) => t === 'stories.settings')).toHaveLength(1);

    // [ST9][ST10] Shown on every node's gathering display, released against the whole room (3 ≥ k).
    await until('the story on both displays', () => displays.every((f) => f.at(-1)?.current?.id === story.id && f.at(-1)?.suppressed === false));
    const shown = (await (await fetch(`${n3.url}/api/spaces/${code}/stories/shown`)).json()) as StoriesFrame;
    expect(shown.current?.id).toBe(story.id);
    await until('shown in the author’s list on their node', async () => (await mine(n2)).every((s) => s.status === 'shown'));

    // [ST11] Withdrawn through n1: off every display, out of every queue, erased from the database.
    const gone = await fetch(`${n1.url}/api/spaces/${code}/stories/${story.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${author.token}` } });
    expect(gone.status).toBe(200);
    await until('off both displays', () => displays.every((f) => f.at(-1)?.current === null));
    await until('out of every queue', async () => (await Promise.all(nodes.map(queue))).every((q) => q.length === 0));
    const rows = await adminQuery(`SELECT id FROM ${env.schema}.stories WHERE space_id = $1`, [id]);
    expect(rows).toHaveLength(0);
  });
});
