/**
 * `attune serve`: runs the server (HTTP + WebSocket + embedded SQLite, or PostgreSQL with
 * `--db postgres://…`), building the web app first when its build is missing or older than its
 * sources.
 */
import { MIN_COHORT_FLOOR } from '../../core/release/release.ts';
import { parseRetention } from '../../core/retention.ts';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import QRCode from 'qrcode';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { createServer, isPostgresUrl, REPO_ROOT, type RunningServer, shownDb } from '../../server/createServer.ts';
import { loadTls } from '../../server/tls.ts';
import { parseOscTarget } from '../../feeds/osc/oscFeed.ts';

const HELP = `Usage: attune serve [options]

Runs attune: the HTTP API, the WebSocket endpoint (/ws), the web app and an embedded
SQLite database. Stop with Ctrl-C; every space resumes on the next start.

Options:
  --host HOST         address to listen on (env ATTUNE_HOST, default 127.0.0.1;
                      use 0.0.0.0 to let phones on your network join)
  --port PORT         port (env ATTUNE_PORT, default 8787; 0 picks a free one)
  --db PATH|URL       SQLite database file (env ATTUNE_DB, default ./data/attune.db;
                      ':memory:' keeps nothing), or a PostgreSQL database:
                      postgres://USER@HOST:PORT/DB (schema migrated on start; for a schema
                      other than public add ?options=-c%20search_path%3DNAME)
  --keys PATH|URL     the key store, where the participants' sealing keys live (env
                      ATTUNE_KEYS). SQLite: a file, default beside the database
                      (attune.keys.db). PostgreSQL: a database, postgres://USER@HOST:PORT/DB,
                      default the sibling database DB_keys on the same server with the same
                      options (created on start if absent; needs CREATEDB). Every node of a
                      cluster uses the same one. It is kept apart so that a backup of the
                      database holds no key: back the two up separately, the key store with
                      a short retention, and never restore an old key store (erased people's
                      keys would come back). PRIVACY.md, DEPLOY.md
  --data-dir DIR      where the admin token and the log signing key live (env
                      ATTUNE_DATA_DIR; default beside the SQLite file, ./data with
                      PostgreSQL — every node of a cluster needs the same keys)
  --public-url URL    base URL printed and put in join links and QR codes
                      (env ATTUNE_PUBLIC_URL, default http://HOST:PORT)
  --demo              create (first time) or reuse a demo space and print its links
  --capacity N        default capacity of new spaces (default 1000)
  --ttl SECONDS       how long a person's last input counts (default 120)
  --max-write-lag MS  refuse new inputs (OVERLOADED: not counted, the client sends them
                      again after a back-off) while the oldest durable write has waited
                      longer than this (default 2000; SPEC W5b)
  --max-queued-writes N
                      … or while this many durable writes wait (default 20000)
  --commit-interval MS
                      the least time between two group commits' starts (default 10;
                      0: each group as soon as the last returned). Writes made meanwhile
                      share one COMMIT: fewer commits per input at a cost of at most this
                      much ack latency while writes come that close together (SPEC S3)
  --min-cohort N      fewest people any shown aggregate describes, room and groups alike
                      (default 5, at least 3; PRIVACY.md). The live pulse also waits
                      for N people's points to change before it shows a new picture
  --privacy-budget R  each space's privacy budget for DP releases of stored inputs
                      (series, exports), zCDP ρ (default 0.5 ≈ ε 5.76 at δ 1e-6)
  --retention DAYS    how long raw data about people (inputs, sessions, consents, stories,
                      recorded events) is kept after a space closes: days (env ATTUNE_RETENTION,
                      default 30) or a duration (90d, 12h, 45m); then it is deleted and only released
                      aggregates remain, each run a retention.run entry on the public log.
                      A space keeps the value it was created with (PRIVACY.md)
  --participant-hz N  pulses per second to participants (default 2)
  --display-hz N      pulses per second to displays (default 20)
  --trust-proxy HOPS  trust X-Forwarded-For/-Proto from this many reverse proxies in
                      front of attune (env ATTUNE_TRUST_PROXY, default 0 = none), so
                      per-address limits see each client instead of the proxy
  --bus BUS           how pulses travel to the sockets: local (default, in-process) or
                      nats://HOST:PORT (env ATTUNE_BUS)
  --tls-cert FILE     serve HTTPS and WSS with this certificate (PEM; env ATTUNE_TLS_CERT) —
                      phones need a secure context for heart-rate straps (docs/heart.md)
  --tls-key FILE      its private key (PEM; env ATTUNE_TLS_KEY)
  --osc HOST:PORT     send every space's released display pulses as OSC bundles over UDP
                      to HOST:PORT (repeat for several; address space in ARTISTS.md)
  --cluster NATS      serve every space together with other nodes (SPEC §K): nats://HOST:PORT
                      with JetStream, for the pulses, partial aggregates and tick leases
                      (env ATTUNE_CLUSTER). Every node needs the same --db (PostgreSQL) and
                      --cluster-name; replaces --bus. See DEPLOY.md
  --node-id ID        this node's id, unique in the cluster, kept across restarts
                      (env ATTUNE_NODE_ID, default the host name and port)
  --cluster-name NAME the deployment's name: NATS subject prefix and KV bucket NAME_cluster
                      (env ATTUNE_CLUSTER_NAME, default attune)
  --drain-seconds N   on SIGTERM, answer /readyz with 503 for N seconds before telling
                      clients bye (reason: shutdown) so they reconnect elsewhere (env
                      ATTUNE_DRAIN_SECONDS, default 0)
  --metrics-token T   GET /metrics answers only Authorization: Bearer T (401 otherwise);
                      at least 16 characters. Prefer the env var ATTUNE_METRICS_TOKEN: a
                      flag shows in the process list. Default: /metrics is open
  --log-level LEVEL   structured logs (JSON lines on stderr): fatal, error, warn, info,
                      debug, trace or silent (env ATTUNE_LOG_LEVEL, default info)
  --no-build          do not build the web app, even if it is missing or stale
  -h, --help          show this help

Operations: GET /metrics (Prometheus; behind --metrics-token when set), /healthz (alive),
/readyz (storage and bus — and a cluster's KV bucket — reachable, not draining). See SPEC.md §O.

Node: bin/attune.js starts the server with --max-semi-space-size=16 (V8's young generation
capped at 2 × 16 MiB instead of growing to ≈ 128 MiB under the fan-out's garbage) and
MALLOC_ARENA_MAX=4 (glibc's threads share four malloc arenas instead of one each; DEPLOY.md,
"Memory per participant"). A --max-semi-space-size of your own in NODE_OPTIONS, or your own
MALLOC_ARENA_MAX (or glibc.malloc.arena_max in GLIBC_TUNABLES), wins.
`;

function num(name: string, raw: string | undefined, lo: number, hi: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`--${name} must be an integer in [${lo}, ${hi}], got '${raw}'`);
  return n;
}

function newestMtime(dir: string): number {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds web/dist with Vite when it is missing or older than web/src or the pages. */
export async function buildWebIfNeeded(io: CliIO): Promise<void> {
  const web = join(REPO_ROOT, 'web');
  const dist = join(web, 'dist', 'index.html');
  // The pages bundle parts of src/ too (core, the client, the phone's heart pipeline).
  const bundled = ['core', 'client', join('analyze', 'heart')].map((d) => newestMtime(join(REPO_ROOT, 'src', d)));
  const srcNewest = Math.max(newestMtime(join(web, 'src')), ...bundled, ...readdirSync(web).filter((f) => f.endsWith('.html') || f.endsWith('.ts')).map((f) => statSync(join(web, f)).mtimeMs));
  if (existsSync(dist) && statSync(dist).mtimeMs >= srcNewest) return;
  io.stderr.write('attune: building the web app (vite build)…\n');
  const vite = await import('vite');
  await vite.build({ configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
}

async function ensureDemo(server: RunningServer, dataDir: string | null): Promise<{ code: string; stewardToken: string }> {
  const file = dataDir ? join(dataDir, 'demo-space.json') : null;
  if (file && existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { code: string; stewardToken: string };
      const s = await server.host.spaceByCode(saved.code);
      if (s && s.status === 'open') return saved;
    } catch {
      /* recreate below */
    }
  }
  const r = await server.host.createSpace({ name: 'attune demo' });
  if (!r.ok) throw new Error(`could not create the demo space: ${r.message}`);
  const saved = { code: r.value.space.code, stewardToken: r.value.stewardToken };
  if (file) {
    writeFileSync(file, `${JSON.stringify(saved)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return saved;
}

export const command: Command = {
  summary: 'run the server (HTTP, WebSocket, web app, SQLite)',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        db: { type: 'string' },
        'data-dir': { type: 'string' },
        keys: { type: 'string' },
        'public-url': { type: 'string' },
        demo: { type: 'boolean', default: false },
        capacity: { type: 'string' },
        ttl: { type: 'string' },
        'max-write-lag': { type: 'string' },
        'max-queued-writes': { type: 'string' },
        'commit-interval': { type: 'string' },
        'min-cohort': { type: 'string' },
        'privacy-budget': { type: 'string' },
        retention: { type: 'string' },
        'participant-hz': { type: 'string' },
        'display-hz': { type: 'string' },
        'trust-proxy': { type: 'string' },
        bus: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'no-build': { type: 'boolean', default: false },
        'drain-seconds': { type: 'string' },
        'log-level': { type: 'string' },
        'metrics-token': { type: 'string' },
        osc: { type: 'string', multiple: true },
        cluster: { type: 'string' },
        'node-id': { type: 'string' },
        'cluster-name': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const host = values.host ?? io.env.ATTUNE_HOST ?? '127.0.0.1';
    const port = num('port', values.port ?? io.env.ATTUNE_PORT, 0, 65535) ?? 8787;
    const dbPath = values.db ?? io.env.ATTUNE_DB ?? './data/attune.db';
    const publicUrl = values['public-url'] ?? io.env.ATTUNE_PUBLIC_URL;
    if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(publicUrl)) throw new UsageError(`--public-url must be an http(s) URL, got '${publicUrl}'`);
    const capacity = num('capacity', values.capacity, 1, 100_000);
    const ttl = num('ttl', values.ttl, 5, 86_400);
    const maxWriteLagMs = num('max-write-lag', values['max-write-lag'], 50, 600_000);
    const maxQueuedWrites = num('max-queued-writes', values['max-queued-writes'], 100, 10_000_000);
    const commitIntervalMs = num('commit-interval', values['commit-interval'], 0, 1000);
    const minCohort = num('min-cohort', values['min-cohort'], MIN_COHORT_FLOOR, 1000);
    const budgetRaw = values['privacy-budget'];
    const privacyBudget = budgetRaw === undefined ? undefined : Number(budgetRaw);
    if (privacyBudget !== undefined && !(privacyBudget > 0 && privacyBudget <= 100)) throw new UsageError(`--privacy-budget must be a number in (0, 100], got '${budgetRaw}'`);
    let retentionMs: number | undefined;
    const retentionRaw = values.retention ?? io.env.ATTUNE_RETENTION;
    if (retentionRaw !== undefined) {
      const r = parseRetention(retentionRaw);
      if (!r.ok) throw new UsageError(`--retention: ${r.message}`);
      retentionMs = r.ms;
    }
    const participantHz = num('participant-hz', values['participant-hz'], 1, 60);
    const displayHz = num('display-hz', values['display-hz'], 1, 60);
    const trustProxyHops = num('trust-proxy', values['trust-proxy'] ?? io.env.ATTUNE_TRUST_PROXY, 0, 10);
    const postgres = isPostgresUrl(dbPath);
    const resolvedDb = dbPath === ':memory:' || postgres ? dbPath : resolve(io.cwd, dbPath);
    const keysOpt = values.keys ?? io.env.ATTUNE_KEYS;
    if (keysOpt !== undefined && resolvedDb === ':memory:') throw new UsageError("--keys names the key store of a stored database; ':memory:' keeps its keys in memory");
    if (keysOpt !== undefined && postgres !== isPostgresUrl(keysOpt)) throw new UsageError(postgres ? `with a PostgreSQL --db, --keys must be a PostgreSQL database (postgres://…), got '${keysOpt}'` : `with a SQLite --db, --keys must be a file path, got '${shownDb(keysOpt)}'`);
    const keysPath = keysOpt === undefined || postgres ? undefined : resolve(io.cwd, keysOpt);
    const keysUrl = keysOpt !== undefined && postgres ? keysOpt : undefined;
    const dataDirOpt = values['data-dir'] ?? io.env.ATTUNE_DATA_DIR;
    const dataDir = dataDirOpt !== undefined ? resolve(io.cwd, dataDirOpt) : resolvedDb === ':memory:' ? null : postgres ? resolve(io.cwd, 'data') : resolve(resolvedDb, '..');

    if (!values['no-build']) await buildWebIfNeeded(io);
    const bus = values.bus ?? io.env.ATTUNE_BUS ?? 'local';
    if (bus !== 'local' && !/^nats:\/\/[^\s/]+$/.test(bus)) throw new UsageError(`--bus must be 'local' or nats://HOST:PORT, got '${bus}'`);
    const certPath = values['tls-cert'] ?? io.env.ATTUNE_TLS_CERT;
    const keyPath = values['tls-key'] ?? io.env.ATTUNE_TLS_KEY;
    let tls: { cert: Buffer; key: Buffer } | undefined;
    if (certPath || keyPath) {
      const shownUrl = publicUrl ?? `https://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
      const loaded = loadTls({ ...(certPath ? { certPath: resolve(io.cwd, certPath) } : {}), ...(keyPath ? { keyPath: resolve(io.cwd, keyPath) } : {}), publicUrl: shownUrl });
      if (!loaded.ok) throw new UsageError(loaded.message);
      for (const w of loaded.value.warnings) io.stderr.write(`attune serve: ${w}\n`);
      tls = { cert: loaded.value.cert, key: loaded.value.key };
    }
    const osc = values.osc ?? [];
    for (const spec of osc) {
      const t = parseOscTarget(spec);
      if (typeof t === 'string') throw new UsageError(`--osc: ${t}`);
    }
    const clusterUrl = values.cluster ?? io.env.ATTUNE_CLUSTER;
    if (clusterUrl !== undefined && !/^nats:\/\/[^\s/]+$/.test(clusterUrl)) throw new UsageError(`--cluster must be nats://HOST:PORT, got '${clusterUrl}'`);
    const nodeId = values['node-id'] ?? io.env.ATTUNE_NODE_ID ?? `${hostname()}-${port}`;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(nodeId)) throw new UsageError(`--node-id must be 1–64 characters of [A-Za-z0-9_-], got '${nodeId}'`);
    const clusterName = values['cluster-name'] ?? io.env.ATTUNE_CLUSTER_NAME ?? 'attune';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(clusterName)) throw new UsageError(`--cluster-name must be 1–64 characters of [A-Za-z0-9_-], got '${clusterName}'`);
    const drainSeconds = num('drain-seconds', values['drain-seconds'] ?? io.env.ATTUNE_DRAIN_SECONDS, 0, 600);
    const logLevel = values['log-level'] ?? io.env.ATTUNE_LOG_LEVEL ?? 'info';
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new UsageError(`--log-level must be fatal, error, warn, info, debug, trace or silent, got '${logLevel}'`);
    const metricsToken = values['metrics-token'] ?? io.env.ATTUNE_METRICS_TOKEN;
    if (metricsToken !== undefined && !/^[\x21-\x7e]{16,512}$/.test(metricsToken)) throw new UsageError('--metrics-token must be 16–512 printable characters without spaces (a bearer token); make one with: openssl rand -hex 24');
    const logger = pino({ level: logLevel, base: { pid: process.pid, ...(clusterUrl ? { node: nodeId } : {}) } }, io.stderr);
    let server: RunningServer;
    try {
      server = await createServer({
        ...(tls ? { tls } : {}),
        host,
        port,
        dbPath: resolvedDb,
        ...(dataDir !== null ? { dataDir } : {}),
        ...(keysPath !== undefined ? { keysPath } : {}),
        ...(keysUrl !== undefined ? { keysUrl } : {}),
        bus,
        ...(publicUrl ? { publicUrl } : {}),
        ...(capacity !== undefined ? { capacity } : {}),
        ...(ttl !== undefined ? { ttlMs: ttl * 1000 } : {}),
        ...(maxWriteLagMs !== undefined ? { maxWriteLagMs } : {}),
        ...(maxQueuedWrites !== undefined ? { maxQueuedWrites } : {}),
        ...(commitIntervalMs !== undefined ? { commitIntervalMs } : {}),
        ...(minCohort !== undefined ? { minCohort } : {}),
        ...(privacyBudget !== undefined ? { privacyBudget } : {}),
        ...(retentionMs !== undefined ? { retentionMs } : {}),
        ...(participantHz !== undefined ? { participantHz } : {}),
        ...(displayHz !== undefined ? { displayHz } : {}),
        ...(trustProxyHops !== undefined ? { trustProxyHops } : {}),
        ...(io.env.ATTUNE_LOG_ORIGIN ? { logOrigin: io.env.ATTUNE_LOG_ORIGIN } : {}),
        ...(osc.length > 0 ? { osc } : {}),
        ...(clusterUrl ? { cluster: { nats: clusterUrl, nodeId, name: clusterName } } : {}),
        ...(drainSeconds ? { drainMs: drainSeconds * 1000 } : {}),
        ...(metricsToken !== undefined ? { metricsToken } : {}),
      }, {
        logger,
        // A failure point for tests at the process level (SPEC K12): with ATTUNE_CRASH_AFTER_LOG=TYPE
        // the process kills itself (SIGKILL, as kill -9) once an entry of that type is durable on
        // the public log and before its act takes effect. Never set in production.
        ...(io.env.ATTUNE_CRASH_AFTER_LOG ? { afterLogged: crashAfterLog(io.env.ATTUNE_CRASH_AFTER_LOG) } : {}),
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') {
        io.stderr.write(`attune serve: port ${port} on ${host} is already in use. Stop the other server or pick another port with --port.\n`);
        return 1;
      }
      if (err.code === 'EACCES') {
        io.stderr.write(`attune serve: not allowed to listen on ${host}:${port}. Ports below 1024 need privileges; try --port 8787.\n`);
        return 1;
      }
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        io.stderr.write(`attune serve: ${host} is not an address of this machine. Try --host 127.0.0.1 or 0.0.0.0.\n`);
        return 1;
      }
      if (err.code === 'ATTUNE_DB_UNAVAILABLE') {
        io.stderr.write(`attune serve: ${err.message}. Start PostgreSQL (or check the URL), or use a SQLite file with --db PATH.\n`);
        return 1;
      }
      if (err.code === 'ECONNREFUSED' && clusterUrl) {
        io.stderr.write(`attune serve: no NATS server answers at ${clusterUrl}. Start nats-server with JetStream (-js).\n`);
        return 1;
      }
      if (err.code === 'ECONNREFUSED' && bus !== 'local') {
        io.stderr.write(`attune serve: no NATS server answers at ${bus}. Start nats-server, or use --bus local.\n`);
        return 1;
      }
      if (err instanceof Error && /log|checkpoint|key/i.test(err.message) && !err.code) {
        io.stderr.write(`attune serve: ${err.message}\n`);
        return 1;
      }
      throw e;
    }
    io.stdout.write(`attune is running at ${server.url}  (database: ${shownDb(resolvedDb)})\n`);
    if (server.cluster) io.stdout.write(`  cluster node:    ${server.cluster.nodeId} of '${clusterName}' on ${clusterUrl}\n`);
    io.stdout.write(`  create a space:  ${server.publicUrl}/\n`);
    io.stdout.write(`  public log:      ${server.publicUrl}/audit  (verifier key: ${server.log?.verifierKeys[0] ?? 'none'})\n`);
    if (server.keyCreated && server.keyPath) io.stdout.write(`  a new log signing key was created in ${server.keyPath} (mode 0600) — back it up\n`);
    if (values.demo) {
      const demo = await ensureDemo(server, dataDir);
      const joinUrl = `${server.publicUrl}/j/${demo.code}`;
      io.stdout.write(`\nDemo space — join code ${demo.code}\n`);
      io.stdout.write(`  join (phones):   ${joinUrl}\n`);
      io.stdout.write(`  display:         ${server.publicUrl}/d/${demo.code}\n`);
      io.stdout.write(`  steward:         ${server.publicUrl}/s/${demo.code}#token=${demo.stewardToken}\n\n`);
      io.stdout.write(await QRCode.toString(joinUrl, { type: 'terminal', small: true }));
      if (host === '127.0.0.1' || host === 'localhost') io.stdout.write('\n(Phones on your network need --host 0.0.0.0 and --public-url http://<this machine>:PORT)\n');
    }
    io.stdout.write('\nPress Ctrl-C to stop.\n');
    await new Promise<void>((r) => {
      if (io.signal.aborted) r();
      io.signal.addEventListener('abort', () => r(), { once: true });
    });
    io.stderr.write('attune: shutting down…\n');
    await server.close();
    return 0;
  },
};

/** The ATTUNE_CRASH_AFTER_LOG failure point: SIGKILL this process after an entry of `type` is logged. */
function crashAfterLog(type: string): (logged: string) => void {
  return (logged) => {
    if (logged === type) process.kill(process.pid, 'SIGKILL');
  };
}
