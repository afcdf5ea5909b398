/**
 * The composition root: the one place that wires adapters together — storage (SQLite file,
 * `:memory:`), bus (`local` or `nats://HOST:PORT`), the transparency log every governance act
 * goes to, the text analyser, the collective-state tracker, the space host on one scheduler
 * (one clock for every part), the HTTP app and the WebSocket edge — and starts listening.
 *
 * `attune serve` is a thin CLI over {@link createServer}; tests build the same server and
 * override `deps` explicitly (a manual scheduler, a failing log, an in-memory database …).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { analyzeText } from '../analyze/text/analyzeText.ts';
import { LocalBus } from '../bus/local/localBus.ts';
import { NatsBus } from '../bus/nats/natsBus.ts';
import type { Bus } from '../bus/port.ts';
import type { CollectiveTrackerOptions } from '../core/collective/collectiveTracker.ts';
import type { GovernanceAct, GovernanceSink } from '../core/governance.ts';
import { JoinThrottle, type JoinThrottleOptions } from '../core/joinThrottle.ts';
import type { LivePolicy } from '../core/release/live.ts';
import { DEFAULT_BUDGET_RHO } from '../core/release/budget.ts';
import { createPrivacyRoutes } from '../http/privacyRoutes.ts';
import { createMeRoutes } from '../http/meRoutes.ts';
import { exportEmotionML } from '../analyze/emotionml/emotionml.ts';
import { PrivacyDesk } from '../space/privacyDesk.ts';
import { RetentionJob } from '../space/retentionJob.ts';
import { checkReleasePolicy, DEFAULT_LIVE_POLICY, DEFAULT_RELEASE_POLICY, MIN_COHORT_FLOOR, type ReleasePolicy } from '../core/release/release.ts';
import type { MachineOptions } from '../core/space/machine.ts';
import { createApp } from '../http/app.ts';
import { createLogRoutes } from '../http/logRoutes.ts';
import { createFeedRoutes } from '../http/feedRoutes.ts';
import { createCouncilRoutes } from '../http/councilRoutes.ts';
import { shippedTemplates } from './templates.ts';
import { createStoryRoutes } from '../http/storyRoutes.ts';
import { screenStory } from '../analyze/profanity/screenStory.ts';
import { type Feeds, startFeeds } from './feeds.ts';
import { upgradeRefusal } from '../http/originCheck.ts';
import { governanceSink } from '../log/governanceSink.ts';
import { DEFAULT_LOG_ORIGIN, loadOrCreateLogKeys } from '../log/keyFile.ts';
import { generateSignerKey, type NoteSigner } from '../log/note.ts';
import { TransparencyLog } from '../log/transparencyLog.ts';
import { RealScheduler, type Scheduler } from '../space/scheduler.ts';
import { SpaceHost, type TextAnalyser } from '../space/spaceHost.ts';
import { MemoryLogStore } from '../storage/memory/memoryLogStore.ts';
import { MemoryStorage } from '../storage/memory/memoryStorage.ts';
import { PostgresLogStore } from '../storage/postgres/postgresLogStore.ts';
import { isPostgresUrl, shownDb } from '../storage/postgres/databaseUrl.ts';
import { PostgresStorage } from '../storage/postgres/postgresStorage.ts';
import type { Storage } from '../storage/port.ts';
import { openDatabase } from '../storage/sqlite/openDatabase.ts';
import { SqliteLogStore } from '../storage/sqlite/sqliteLogStore.ts';
import { SqliteStorage } from '../storage/sqlite/sqliteStorage.ts';
import { WsEdge } from '../ws/wsEdge.ts';
import pino, { type Logger } from 'pino';
import { createOpsRoutes } from '../http/opsRoutes.ts';
import { busCheck, kvCheck, Readiness, storageCheck } from './health.ts';
import { Metrics, timedScheduler } from './metrics.ts';
import { NatsKv } from '../bus/nats/natsKv.ts';
import { ClusterNode, type ClusterTimings } from '../space/cluster/clusterNode.ts';
import { allocateSlot, nodeStorage } from '../space/cluster/nodeStorage.ts';
import { kvRetentionClaims } from '../space/cluster/retentionClaims.ts';

/** The repository root (for web/dist). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Settings of a server: plain values, as `attune serve` takes them. */
export interface ServerConfig {
  readonly host?: string;
  /** 0 = an ephemeral port. */
  readonly port?: number;
  /** SQLite file, ':memory:' for an in-memory store, or a `postgres://…` URL (SPEC S11). */
  readonly dbPath?: string;
  /** Where keys and tokens live (admin token, log signing key); default beside the database. */
  readonly dataDir?: string;
  /**
   * SQLite: the key store, the file of the participants' sealing keys (S18), kept apart from the
   * database so a backup of the database holds no key (`--keys`; default `NAME.keys.db` beside it).
   */
  readonly keysPath?: string;
  /**
   * PostgreSQL: the key store, a database of its own for the sealing keys (S18; `--keys URL`).
   * Default: the sibling database `<db>_keys` on the same server, same options, created if absent.
   */
  readonly keysUrl?: string;
  /** Base URL printed and used in links; default http://host:port. */
  readonly publicUrl?: string;
  /** The built web app; null serves the API only. Default: <repo>/web/dist. */
  readonly webRoot?: string | null;
  /** The bus: `local` (default, in-process) or `nats://HOST:PORT`. */
  readonly bus?: string;
  readonly capacity?: number;
  readonly ttlMs?: number;
  /** Refuse inputs with OVERLOADED while the oldest durable write has waited longer than this, ms (W5b, `--max-write-lag`; default 2000). */
  readonly maxWriteLagMs?: number;
  /** Refuse inputs with OVERLOADED while this many durable writes wait (W5b, `--max-queued-writes`; default 20,000). */
  readonly maxQueuedWrites?: number;
  /** The least time between two group commits' starts, ms (S3, `--commit-interval`; default 10 for a file or PostgreSQL, none for `:memory:`). */
  readonly commitIntervalMs?: number;
  /** The release stage's minimum cohort (R1; default 5; the CLI's floor is 3). */
  readonly minCohort?: number;
  /**
   * The live release against differencing (R7): batches of changed people and noise. Default:
   * batch = the minimum cohort, noise σ 1 person per unit, σ 0.5 on the coordinate sums — when
   * the minimum cohort is ≥ 3; below that floor (tests, development) the release is exact
   * unless this is given. `false`: exact, every tick.
   */
  readonly liveRelease?: LivePolicy | false;
  /** Each space's privacy budget, ρ (zCDP) for DP releases of stored inputs (R8; default 0.5). */
  readonly privacyBudget?: number;
  /**
   * How long raw data about people is kept after a space closes, ms (V3, `--retention`; default
   * 30 days). A new space keeps the value it was created with.
   */
  readonly retentionMs?: number;
  /** How often the retention job looks for spaces due, ms (default hourly). */
  readonly retentionCheckMs?: number;
  readonly participantHz?: number;
  readonly displayHz?: number;
  readonly ratePerSec?: number;
  /** Reverse proxies in front of the server whose `X-Forwarded-For`/`-Proto` are trusted (0 = none). */
  readonly trustProxyHops?: number;
  /** Settings of the join-guessing throttle (W13). */
  readonly joinThrottle?: JoinThrottleOptions;
  /** The collective-state tracker: on by default; false turns it off. */
  readonly collective?: CollectiveTrackerOptions | false;
  /** Text inputs analysed on the server: on by default. */
  readonly text?: boolean;
  /** The log's origin (and key name) when a key is first created. */
  readonly logOrigin?: string;
  /** Sockets written per event-loop turn during a fan-out. */
  readonly fanoutSlice?: number;
  /** Serve HTTPS (and WSS) with this certificate and key, PEM (see src/server/tls.ts). */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string };
  /** OSC targets (`HOST:PORT`) every space's released display pulses go to (src/feeds/osc). */
  readonly osc?: readonly string[];
  /**
   * On close (SIGTERM), how long `/readyz` answers 503 before the sockets get `bye`
   * (`reason: shutdown`), so a load balancer stops routing here first (O4); default 0.
   */
  readonly drainMs?: number;
  /**
   * When set, `GET /metrics` answers only `Authorization: Bearer <metricsToken>` (401
   * `UNAUTHORIZED` otherwise; SPEC O6). Default: open, as Prometheus exporters usually are.
   */
  readonly metricsToken?: string;
  /**
   * One space on several nodes (SPEC §K): NATS for the bus and the tick leases, the database
   * shared by every node. Replaces `bus`.
   */
  readonly cluster?: ClusterConfig;
}

/** Settings of a cluster node (`attune serve --cluster`). */
export interface ClusterConfig {
  /** `nats://HOST:PORT` (JetStream on, for the KV bucket). */
  readonly nats: string;
  /** This node's id, unique in the cluster (it keeps its event-number slot across restarts). */
  readonly nodeId: string;
  /** Names the deployment: the bus subject prefix and the KV bucket `<name>_cluster` (default `attune`). */
  readonly name?: string;
  /** Lease and partial timings (tests). */
  readonly timings?: Partial<ClusterTimings>;
}

/** Parts a caller may supply instead of the configured ones (tests, benchmarks). */
export interface ServerDeps {
  /** Time for every part (default: real timers on Date.now). */
  readonly scheduler?: Scheduler;
  /** An open SQLite database (the caller closes it); its tables hold spaces and the log. */
  readonly db?: DatabaseSync;
  readonly storage?: Storage;
  /** The write backlog's clock (W5b; default real time, `performance.now`): tests on a manual scheduler hand in its clock. */
  readonly writeClock?: () => number;
  readonly bus?: Bus;
  /** Where governance acts go (default: the transparency log). */
  readonly governance?: GovernanceSink;
  readonly analyseText?: TextAnalyser;
  /** Extra sub-apps to mount. */
  readonly mounts?: readonly { readonly path: string; readonly app: Hono }[];
  /** Structured logs (pino); default none. `attune serve` logs JSON lines to stderr. */
  readonly logger?: Logger;
  /** The consent text's version (V1; default the SHA-256 of src/core/consent.ts's document) — tests stand in an upgraded text. */
  readonly consentVersion?: string;
  /**
   * Called once a governance act's entry is durable on the public log, before the act takes
   * effect (SPEC M5, K12): a failure point for tests. `attune serve` sets it only from
   * ATTUNE_CRASH_AFTER_LOG=TYPE (the process then kills itself as kill -9 would); never in production.
   */
  readonly afterLogged?: (type: string) => void;
}

/** A running server. */
export interface RunningServer {
  /** http://host:port */
  readonly url: string;
  readonly publicUrl: string;
  readonly port: number;
  readonly host: SpaceHost;
  readonly edge: WsEdge;
  /** The public log (null when `deps.governance` replaced it). */
  readonly log: TransparencyLog | null;
  /** Whether a new log signing key was generated on this start, and where it lives. */
  readonly keyCreated: boolean;
  readonly keyPath: string | null;
  readonly adminToken: string;
  /** The live feeds of released views (OSC, SSE history, webhooks, display modes). */
  readonly feeds: Feeds;
  /** This node of a cluster (null on a single node). */
  readonly cluster: ClusterNode | null;
  /** The process's Prometheus metrics (`/metrics`, SPEC O1); a cluster node sets its lease gauges here. */
  readonly metrics: Metrics;
  /** The retention job (V3), on the server's scheduler; tests call `run()` after moving time. */
  readonly retention: RetentionJob;
  /** Storage, bus and drain state behind `/readyz` (O3). */
  readonly readiness: Readiness;
  /**
   * Drains (O4) and stops: `/readyz` turns 503, after `drainMs` every socket gets `bye`
   * (`reason: shutdown`) and closes with 1001 once pending writes committed, then the rest stops.
   */
  close(): Promise<void>;
}

/** Reads or creates a secret in a 0600 file. */
export function loadOrCreateSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return secret;
}

/** Governance acts kept in memory (tests that look at what was logged). */
export class MemoryGovernance implements GovernanceSink {
  readonly acts: GovernanceAct[] = [];
  async record(act: GovernanceAct): Promise<void> {
    this.acts.push(act);
  }
}

/** Opens the bus named by `spec`: `local` or `nats://HOST:PORT`. */
export async function openBus(spec: string): Promise<Bus> {
  if (spec === 'local') return new LocalBus();
  if (/^nats:\/\/[^\s/]+$/.test(spec)) return NatsBus.connect({ servers: spec.slice('nats://'.length) });
  throw new RangeError(`the bus must be 'local' or nats://HOST:PORT, got '${spec}'`);
}

export { isPostgresUrl, shownDb };

/** Opens PostgreSQL storage (and its key store, S18); a failure to reach the server says where, coded `ATTUNE_DB_UNAVAILABLE`. */
async function openPostgres(url: string, keysUrl: string | undefined, minCommitIntervalMs: number | undefined): Promise<PostgresStorage> {
  try {
    return await PostgresStorage.open({ connectionString: url, ...(keysUrl !== undefined ? { keys: { connectionString: keysUrl } } : {}), ...(minCommitIntervalMs !== undefined ? { minCommitIntervalMs } : {}) });
  } catch (e) {
    const err = new Error(`could not open the PostgreSQL database ${shownDb(url)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }) as Error & { code?: string };
    err.code = 'ATTUNE_DB_UNAVAILABLE';
    throw err;
  }
}

/** Builds and starts a server; resolves once it listens. */
export async function createServer(config: ServerConfig = {}, deps: ServerDeps = {}): Promise<RunningServer> {
  const hostName = config.host ?? '127.0.0.1';
  const dbPath = config.dbPath ?? './data/attune.db';
  const postgres = !deps.storage && !deps.db && isPostgresUrl(dbPath);
  // With PostgreSQL the keys have no database file to sit beside: ./data unless told.
  const dataDir = config.dataDir ?? (postgres ? resolve('data') : dbPath === ':memory:' && !deps.db ? null : deps.db ? null : dirname(resolve(dbPath)));
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const f of cleanups.reverse()) await f();
  };
  try {
    const scheduler = deps.scheduler ?? new RealScheduler();
    const minCohort = config.minCohort ?? DEFAULT_RELEASE_POLICY.minCohort;
    const live = config.liveRelease === undefined ? (minCohort >= MIN_COHORT_FLOOR ? { ...DEFAULT_LIVE_POLICY, batch: minCohort } : false) : config.liveRelease;
    const release: ReleasePolicy = live ? { minCohort, live } : { minCohort };
    const bad = checkReleasePolicy(release);
    if (bad) throw new RangeError(bad);

    let db: DatabaseSync | null = deps.db ?? null;
    if (!deps.storage && !db && dbPath !== ':memory:' && !postgres) {
      const opened = openDatabase(dbPath);
      db = opened;
      cleanups.push(() => opened.close());
    }
    // PostgreSQL (S11): the spaces and the public log in one database (the URL's schema).
    const pgStorage = postgres ? await openPostgres(dbPath, config.keysUrl, config.commitIntervalMs) : null;
    const sqliteOptions = { ...(config.keysPath !== undefined ? { keysPath: config.keysPath } : {}), ...(config.commitIntervalMs !== undefined ? { minCommitIntervalMs: config.commitIntervalMs } : {}) };
    const storage = deps.storage ?? pgStorage ?? (db ? new SqliteStorage(db, sqliteOptions) : new MemoryStorage());
    cleanups.push(() => storage.close());

    // The public log: its tables beside the spaces, its key beside the database (0600).
    let log: TransparencyLog | null = null;
    let keyCreated = false;
    const keyPath = dataDir ? join(dataDir, 'log-key') : null;
    if (!deps.governance) {
      const origin = config.logOrigin ?? DEFAULT_LOG_ORIGIN;
      let signers: NoteSigner[];
      if (keyPath) {
        const k = loadOrCreateLogKeys({ path: keyPath, origin });
        signers = k.signers;
        keyCreated = k.created;
      } else {
        signers = [generateSignerKey(origin).signer];
        keyCreated = true;
      }
      const store = pgStorage ? await PostgresLogStore.open(pgStorage.pool) : db ? new SqliteLogStore(db) : new MemoryLogStore();
      const opened = await TransparencyLog.open({ store, signer: signers, now: () => scheduler.now() });
      log = opened;
      cleanups.push(() => opened.close());
    }
    const governance = deps.governance ?? governanceSink(log as TransparencyLog);

    // A cluster node (SPEC §K): NATS bus under the deployment's prefix, the leases' KV bucket,
    // and this node's event-number slot in the shared storage.
    let cluster: ClusterNode | null = null;
    let hostStorage: Storage = storage;
    let clusterBus: Bus | null = null;
    let clusterKv: NatsKv | null = null;
    if (config.cluster) {
      const cc = config.cluster;
      if (!/^nats:\/\/[^\s/]+$/.test(cc.nats)) throw new RangeError(`the cluster must be nats://HOST:PORT, got '${cc.nats}'`);
      const name = cc.name ?? 'attune';
      const servers = cc.nats.slice('nats://'.length);
      clusterBus = deps.bus ?? (await NatsBus.connect({ servers, prefix: name, name: `attune-${cc.nodeId}` }));
      const kv = await NatsKv.connect({ servers, bucket: `${name}_cluster`, name: `attune-${cc.nodeId}-kv` });
      cleanups.push(() => kv.close());
      clusterKv = kv;
      hostStorage = nodeStorage(storage, await allocateSlot(kv, cc.nodeId));
      cluster = new ClusterNode({ nodeId: cc.nodeId, bus: clusterBus, kv, scheduler, storage, ...(cc.timings ? { timings: cc.timings } : {}) });
    }
    const bus = clusterBus ?? deps.bus ?? (await openBus(config.bus ?? 'local'));
    cleanups.push(() => bus.close());

    // Operations (SPEC §O): what /readyz and the dependency gauge check, and the metrics.
    const logger = deps.logger ?? pino({ enabled: false });
    const storageKind = deps.storage ? (storage instanceof PostgresStorage ? 'postgres' : storage instanceof SqliteStorage ? 'sqlite' : storage instanceof MemoryStorage ? 'memory' : 'custom') : pgStorage ? 'postgres' : db ? 'sqlite' : 'memory';
    const busKind = bus instanceof NatsBus ? 'nats' : bus instanceof LocalBus ? 'local' : 'custom';
    // A cluster node also needs its lease store (O3): without the KV bucket it can neither
    // renew nor take a tick lease, nor get an event-number slot on a restart.
    const checks = [storageCheck(storage, storageKind), busCheck(bus, busKind), ...(clusterKv ? [kvCheck(clusterKv, 'nats')] : [])];
    const readiness = new Readiness(checks);
    let edgeRef: WsEdge | null = null;
    let hostRef: SpaceHost | null = null;
    const metrics = new Metrics({
      connections: () => edgeRef?.connectionsByRole() ?? { participant: 0, display: 0, other: 0 },
      writeBacklog: () => (hostRef ? { queued: hostRef.backlog.queued, lagMs: hostRef.backlog.lagMs(hostRef.writeClock()) } : { queued: 0, lagMs: 0 }),
      dependencies: checks,
      ...(config.cluster ? { nodeId: config.cluster.nodeId } : {}),
    });

    const adminToken = dataDir ? loadOrCreateSecret(join(dataDir, 'admin-token')) : randomBytes(32).toString('base64url');
    const adminHash = createHash('sha256').update(adminToken).digest();

    const machine: Partial<MachineOptions> = {
      release,
      collective: config.collective ?? {},
      ...(config.participantHz !== undefined ? { participantHz: config.participantHz } : {}),
      ...(config.displayHz !== undefined ? { displayHz: config.displayHz } : {}),
    };
    const analyseText = deps.analyseText ?? (config.text === false ? undefined : analyzeText);
    const host = new SpaceHost({
      ...(deps.afterLogged ? { afterLogged: deps.afterLogged } : {}),
      storage: hostStorage,
      bus,
      ...(cluster ? { cluster: cluster.hooks } : {}),
      governance,
      // The host's only periodic work is a space's beat: timing `every` times the ticks (O1).
      scheduler: timedScheduler(scheduler, metrics),
      machine,
      ...(deps.logger ? { report: (what: string, e: unknown) => logger.error({ err: e }, what) } : {}),
      ...(analyseText ? { analyseText } : {}),
      screenStory,
      ...(config.capacity !== undefined ? { capacity: config.capacity } : {}),
      ...(config.ttlMs !== undefined ? { ttlMs: config.ttlMs } : {}),
      ...(config.retentionMs !== undefined ? { retentionMs: config.retentionMs } : {}),
      ...(deps.consentVersion !== undefined ? { consentVersion: deps.consentVersion } : {}),
      ...(deps.writeClock ? { writeClock: deps.writeClock } : {}),
      writeBacklog: { ...(config.maxWriteLagMs !== undefined ? { maxLagMs: config.maxWriteLagMs } : {}), ...(config.maxQueuedWrites !== undefined ? { maxQueued: config.maxQueuedWrites } : {}) },
    });
    hostRef = host;
    await host.start();
    cleanups.push(() => host.stop());
    // V3: raw data about people goes once a closed space's retention ran out (logged first).
    // On a cluster every node runs the job; each space is claimed in the KV bucket first, so
    // one node logs and purges it (K13).
    const retentionClaims = clusterKv && config.cluster ? kvRetentionClaims({ kv: clusterKv, nodeId: config.cluster.nodeId, now: () => scheduler.now() }) : null;
    const retention = new RetentionJob({
      ...(retentionClaims ? { claims: retentionClaims } : {}),
      storage,
      governance,
      scheduler,
      retentionMs: host.retentionMs,
      ...(config.retentionCheckMs !== undefined ? { periodMs: config.retentionCheckMs } : {}),
      report: (what, e) => logger.error({ err: e }, what),
    });
    retention.start();
    cleanups.push(() => retention.stop());
    if (cluster) {
      const node = cluster;
      node.leaseObserver = metrics;
      node.start(host);
      // Hands its leases over before the host stops (another node ticks at once).
      cleanups.push(() => node.stop());
    }

    // Webhook secrets are derived from a key beside the database (0600), never stored in it (S13).
    const feedKey = dataDir ? loadOrCreateSecret(join(dataDir, 'feeds-key')) : randomBytes(32).toString('base64url');
    // On a cluster the push feeds (OSC, webhooks) leave from one node per pulse: the one that
    // published it, the tick owner (F8); every node still serves SSE and reads.
    const clusterNode = cluster;
    const delivery = clusterNode ? { pulse: (spaceId: string, seq: number) => clusterNode.published(spaceId, seq), closed: (spaceId: string) => host.closedHere(spaceId) } : null;
    const feeds = await startFeeds({ host, bus, scheduler, storage, secretKey: feedKey, osc: config.osc ?? [], ...(delivery ? { cluster: { delivery } } : {}) });
    cleanups.push(() => feeds.close());

    const trustProxyHops = config.trustProxyHops ?? 0;
    // One join-guessing budget per address for sockets and HTTP routes alike (W13).
    const joinThrottle = new JoinThrottle(config.joinThrottle ?? {});
    const edge = new WsEdge({
      host,
      scheduler,
      observer: metrics,
      trustProxyHops,
      joinThrottle,
      ...(config.fanoutSlice !== undefined ? { fanoutSlice: config.fanoutSlice } : {}),
      ...(config.ratePerSec !== undefined ? { ratePerSec: config.ratePerSec, burst: Math.max(1, config.ratePerSec * 2) } : {}),
    });
    edgeRef = edge;
    // The edge closes first on shutdown (clients get bye), then the listener, then the rest.
    cleanups.push(() => edge.close());

    const privacy = new PrivacyDesk({ storage, logRelease: (spaceId, entry) => host.logPrivacyRelease(spaceId, entry), scheduler, budgetRho: config.privacyBudget ?? DEFAULT_BUDGET_RHO, minCohort, live: live || null });
    let publicUrl = config.publicUrl ?? '';
    const app = createApp({
      host,
      publicUrl: () => publicUrl,
      isAdmin: (t) => {
        if (!t) return false;
        return timingSafeEqual(createHash('sha256').update(t).digest(), adminHash);
      },
      webRoot: config.webRoot === undefined ? join(REPO_ROOT, 'web', 'dist') : config.webRoot,
      mounts: [...(log ? [{ path: '/log', app: createLogRoutes(log) }] : []), { path: '/', app: createOpsRoutes({ metrics, readiness, metricsToken: config.metricsToken ?? null }) }, ...(deps.mounts ?? [])],
      trustProxyHops,
      joinThrottle,
      clock: () => scheduler.now(),
      spaceRoutes: [createFeedRoutes({ host, ...feeds }), createStoryRoutes({ host }), createCouncilRoutes({ host, publicUrl: () => publicUrl }), createPrivacyRoutes({ host, desk: privacy })],
      apiRoutes: [createMeRoutes({ host, toEmotionML: (records) => exportEmotionML(records) })],
      frameAncestorsOf: (path) => feeds.embeds.frameAncestorsOf(path),
      templates: shippedTemplates(),
      releasedSeries: (spaceId) => privacy.series(spaceId),
    });

    const server = (config.tls ? createAdaptorServer({ fetch: app.fetch, createServer: createHttpsServer, serverOptions: { cert: config.tls.cert, key: config.tls.key } }) : createAdaptorServer({ fetch: app.fetch })) as Server;
    server.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== '/ws') {
        socket.destroy();
        return;
      }
      // H11: joining is state-changing; a page of another site may not open sockets for its visitors.
      const refusal = upgradeRefusal(req.headers, publicUrl);
      if (refusal) {
        socket.end(refusal);
        return;
      }
      edge.handleUpgrade(req, socket, head);
    });
    await new Promise<void>((res, rej) => {
      const onError = (e: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        rej(e);
      };
      const onListening = () => {
        server.off('error', onError);
        res();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(config.port ?? 8787, hostName);
    });
    const port = (server.address() as AddressInfo).port;
    const shownHost = hostName === '0.0.0.0' || hostName === '::' ? '127.0.0.1' : hostName.includes(':') ? `[${hostName}]` : hostName;
    const url = `${config.tls ? 'https' : 'http'}://${shownHost}:${port}`;
    if (!publicUrl) publicUrl = url;
    publicUrl = publicUrl.replace(/\/+$/, '');

    logger.info({ url, db: shownDb(deps.storage ? storageKind : dbPath), storage: storageKind, bus: busKind, ...(config.cluster ? { nodeId: config.cluster.nodeId } : {}) }, 'listening');
    let closed = false;
    return {
      url,
      publicUrl,
      port,
      host,
      edge,
      log,
      keyCreated,
      keyPath,
      adminToken,
      feeds,
      cluster,
      metrics,
      retention,
      readiness,
      async close() {
        if (closed) return;
        closed = true;
        // Drain (O4): not ready first, so a balancer routes new clients elsewhere; then every
        // acknowledged-to-be input commits (its ack goes out) before the sockets get bye.
        readiness.drain();
        logger.info({ drainMs: config.drainMs ?? 0, connections: edge.connectionCount }, 'draining');
        const drainMs = config.drainMs ?? 0;
        if (drainMs > 0) await new Promise<void>((r) => scheduler.at(scheduler.now() + drainMs, r));
        await host.drain();
        const closeEdge = cleanups.pop();
        await closeEdge?.();
        feeds.history.close(); // ends the SSE streams, which would keep the listener open
        await new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections?.();
        await cleanup();
        logger.info('stopped');
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
