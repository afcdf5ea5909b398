/**
 * The composition root: the one place that wires adapters (storage, bus, log, HTTP,
 * WebSocket) together and starts listening.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatabaseSync } from 'node:sqlite';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { GovernanceAct, GovernanceSink } from '../core/governance.ts';
import { JoinThrottle, type JoinThrottleOptions } from '../core/joinThrottle.ts';
import { LocalBus } from '../bus/local/localBus.ts';
import { createApp } from '../http/app.ts';
import { upgradeRefusal } from '../http/originCheck.ts';
import { MemoryStorage } from '../storage/memory/memoryStorage.ts';
import { openDatabase } from '../storage/sqlite/openDatabase.ts';
import { SqliteStorage } from '../storage/sqlite/sqliteStorage.ts';
import type { Storage } from '../storage/port.ts';
import { WsEdge } from '../ws/edge.ts';
import type { PulseExtension } from '../space/spaceRuntime.ts';
import { SpaceService, type TextAnalyser } from '../space/spaceService.ts';
import type { SpaceRecord } from '../storage/port.ts';

/** The repository root (for web/dist). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Settings of a server. */
export interface ServerOptions {
  readonly host?: string;
  /** 0 = an ephemeral port. */
  readonly port?: number;
  /** SQLite file, or ':memory:' for an in-memory store. */
  readonly dbPath?: string;
  /** An open SQLite database to use instead of opening `dbPath` (the caller closes it). */
  readonly db?: DatabaseSync;
  /** Where keys and tokens live (admin token, log signing key). */
  readonly dataDir?: string;
  /** Base URL printed and used in links; default http://host:port. */
  readonly publicUrl?: string;
  /** The built web app; null serves the API only. Default: <repo>/web/dist. */
  readonly webRoot?: string | null;
  readonly capacity?: number;
  readonly ttlMs?: number;
  readonly minCohort?: number;
  readonly participantHz?: number;
  readonly displayHz?: number;
  readonly ratePerSec?: number;
  readonly analyseText?: TextAnalyser;
  readonly governance?: GovernanceSink;
  readonly extension?: (space: SpaceRecord) => PulseExtension;
  readonly mounts?: readonly { readonly path: string; readonly app: Hono }[];
  readonly clock?: () => number;
  /** Reverse proxies in front of the server whose `X-Forwarded-For`/`-Proto` are trusted (0 = none). */
  readonly trustProxyHops?: number;
  /** Settings of the join-guessing throttle (W13). */
  readonly joinThrottle?: JoinThrottleOptions;
}

/** A running server. */
export interface RunningServer {
  /** http://host:port */
  readonly url: string;
  readonly publicUrl: string;
  readonly port: number;
  readonly service: SpaceService;
  readonly edge: WsEdge;
  readonly adminToken: string;
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

/** Governance acts kept in memory, until the transparency log is configured. */
export class MemoryGovernance implements GovernanceSink {
  readonly acts: GovernanceAct[] = [];
  async record(act: GovernanceAct): Promise<void> {
    this.acts.push(act);
  }
}

/** Starts a server; resolves once it listens. */
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const dbPath = opts.dbPath ?? './data/attune.db';
  const dataDir = opts.dataDir ?? (dbPath === ':memory:' ? null : dirname(resolve(dbPath)));
  let storage: Storage;
  let closeDb: () => void = () => {};
  if (opts.db) storage = new SqliteStorage(opts.db);
  else if (dbPath === ':memory:') storage = new MemoryStorage();
  else {
    const db = openDatabase(dbPath);
    storage = new SqliteStorage(db);
    closeDb = () => db.close();
  }
  const adminToken = dataDir ? loadOrCreateSecret(join(dataDir, 'admin-token')) : randomBytes(32).toString('base64url');
  const adminHash = createHash('sha256').update(adminToken).digest();
  const bus = new LocalBus();
  const governance = opts.governance ?? new MemoryGovernance();
  const service = new SpaceService({
    storage,
    bus,
    governance,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.analyseText ? { analyseText: opts.analyseText } : {}),
    ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
    ...(opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {}),
    ...(opts.minCohort !== undefined ? { minCohort: opts.minCohort } : {}),
    ...(opts.participantHz !== undefined ? { participantHz: opts.participantHz } : {}),
    ...(opts.displayHz !== undefined ? { displayHz: opts.displayHz } : {}),
    ...(opts.extension ? { extension: opts.extension } : {}),
  });
  await service.start();
  const trustProxyHops = opts.trustProxyHops ?? 0;
  // One join-guessing budget per address for sockets and HTTP routes alike (W13).
  const joinThrottle = new JoinThrottle(opts.joinThrottle ?? {});
  const edge = new WsEdge({ service, trustProxyHops, joinThrottle, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.ratePerSec !== undefined ? { ratePerSec: opts.ratePerSec, burst: Math.max(1, opts.ratePerSec * 2) } : {}) });

  let publicUrl = opts.publicUrl ?? '';
  const app = createApp({
    service,
    publicUrl: () => publicUrl,
    isAdmin: (t) => {
      if (!t) return false;
      const h = createHash('sha256').update(t).digest();
      return timingSafeEqual(h, adminHash);
    },
    webRoot: opts.webRoot === undefined ? join(REPO_ROOT, 'web', 'dist') : opts.webRoot,
    mounts: opts.mounts ?? [],
    trustProxyHops,
    joinThrottle,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });

  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
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
    server.listen(opts.port ?? 8787, host);
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}`;
  if (!publicUrl) publicUrl = url;
  publicUrl = publicUrl.replace(/\/+$/, '');

  let closed = false;
  return {
    url,
    publicUrl,
    port,
    service,
    edge,
    adminToken,
    async close() {
      if (closed) return;
      closed = true;
      await edge.close();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections?.();
      await service.stop();
      await bus.close();
      await storage.close();
      closeDb();
    },
  };
}

