/**
 * Stories on a cluster (SPEC ST15): a cluster node refuses to turn stories on, so no node shows a
 * gathering view of only its own stories. Two real ClusterNodes in one process, as
 * test/cluster.test.ts builds them.
 */
import { describe, expect, it } from 'vitest';
import { LocalBus } from '../src/bus/local/localBus.ts';
import { MemoryKv } from '../src/bus/local/memoryKv.ts';
import { ClusterNode } from '../src/space/cluster/clusterNode.ts';
import { allocateSlot, nodeStorage } from '../src/space/cluster/nodeStorage.ts';
import { MemoryGovernance } from '../src/server/createServer.ts';
import { shippedTemplates } from '../src/server/templates.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { SpaceHost } from '../src/space/spaceHost.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';

describe('stories on a cluster', () => {
  it('[ST15][Q14] a cluster node refuses to turn stories on, and a template that would; nothing is logged', async () => {
    const sch = new ManualScheduler();
    const storage = new MemoryStorage();
    const bus = new LocalBus();
    const kv = new MemoryKv();
    const governance = new MemoryGovernance();
    const node = new ClusterNode({ nodeId: 'node-0', bus, kv, scheduler: sch, storage, report: () => {} });
    const host = new SpaceHost({ storage: nodeStorage(storage, await allocateSlot(kv, 'node-0')), bus, governance, scheduler: sch, machine: { release: { minCohort: 1 }, collective: false }, cluster: node.hooks, report: () => {} });
    await host.start();
    node.start(host);
    const made = await host.createSpace({ name: 'clustered' });
    if (!made.ok) throw new Error(made.message);
    const before = governance.acts.length;
    const r = await host.setStorySettings(made.value.space.code, made.value.stewardToken, { enabled: true, moderation: 'pre' });
    expect(r).toMatchObject({ ok: false, code: 'STORIES_OFF' });
    expect(governance.acts.length).toBe(before);
    expect(host.stateOf(made.value.space.id)?.stories.settings.enabled).toBe(false);
    // A template that turns stories on (reflective-gathering) is refused before anything is created.
    const spaces = (await storage.listSpaces()).length;
    const tpl = shippedTemplates().find((t) => t.name === 'reflective-gathering');
    expect(await host.createSpace({ name: 'a circle', template: tpl?.json })).toMatchObject({ ok: false, code: 'STORIES_OFF' });
    expect((await storage.listSpaces()).length).toBe(spaces);
    expect(governance.acts.length).toBe(before);
    await node.stop();
    await host.stop();
  });
});
