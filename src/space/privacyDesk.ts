/**
 * The privacy desk (SPEC R8): differentially private releases from a space's stored inputs,
 * against the space's budget, each one on the public log before anyone sees it.
 *
 *   steward asks (what, period, ρ) ──▶ same query released before? ──yes──▶ the stored release
 *                                         │ no
 *                                         ▼
 *            ledger + ρ ≤ budget? ──no──▶ PRIVACY_BUDGET_EXHAUSTED (nothing spent)
 *                                         │ yes
 *                                         ▼
 *        compute (release/dpSeries.ts) ─▶ log `privacy.release` (durable) ─▶ store ─▶ answer
 *                                           (an act of the space machine, M5)
 *
 * A release once made is published: asking again returns the same figures and spends nothing
 * (re-drawing the noise would let repeated queries average it away). Requests of one space run
 * one after another, so two at once cannot both pass the same remaining budget.
 *
 * The figures are computed here, in the host, because exports are asked for after a space closes
 * too, when its machine no longer runs; the ledger lives in storage (listPrivacyReleases). The
 * log entry goes through the space's machine while it is open (`logRelease`).
 */
import { epsilonOf, MICRO, microOf, SHOWN_DELTA, spend } from '../core/release/budget.ts';
import { keyOfSeed } from '../core/release/chacha20.ts';
import type { ContagionRecord } from '../core/collective/contagion.ts';
import { type DpContagion, releaseDpContagion } from '../core/release/dpContagion.ts';
import { type DpSeriesPoint, MAX_WINDOWS, releaseDpSeries, seriesSigma2, windowsOf } from '../core/release/dpSeries.ts';
import type { LivePolicy } from '../core/release/live.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import { type PrivacyReport, privacyReport } from './privacyReport.ts';
import type { Scheduler } from './scheduler.ts';
import type { InputRecord, PrivacyReleaseRecord, SpaceRecord, Storage } from '../storage/port.ts';

/** Options of a {@link PrivacyDesk}. */
export interface PrivacyDeskOptions {
  readonly storage: Storage;
  /**
   * Logs a release's `privacy.release` entry, durably, before it is stored or answered — the
   * space host's {@link SpaceHost.logPrivacyRelease} (through the space machine, M5).
   */
  readonly logRelease: (spaceId: string, entry: Readonly<Record<string, unknown>>) => Promise<Result<unknown>>;
  readonly scheduler: Scheduler;
  /** Each space's budget, ρ (zCDP). */
  readonly budgetRho: number;
  readonly minCohort: number;
  /** The live release's settings, published with the budget (R7). */
  readonly live: LivePolicy | null;
  /** Default ρ of one series release. */
  readonly defaultRho?: number;
}

/** A series query as a steward asks it. */
export interface SeriesRequest {
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly bucketSeconds?: number | undefined;
  readonly rho?: number | undefined;
}

/** A contagion query as a steward asks it (H10, H17). */
export interface ContagionRequest {
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly rho?: number | undefined;
}

/** A released contagion index (R8). */
export interface ContagionRelease extends PublishedRelease, DpContagion {
  /** Whether this answer spent budget (false: the same period was released before). */
  readonly spent: boolean;
}

/** One release as published. */
export interface PublishedRelease {
  readonly n: number;
  readonly at: number;
  readonly what: string;
  readonly params: Record<string, unknown>;
  readonly rho: number;
}

/** A released series. */
export interface SeriesRelease extends PublishedRelease {
  readonly points: readonly DpSeriesPoint[];
  /** Standard deviation of the noise on each window's quadrant counts, in people. */
  readonly sigma: number;
  /** Whether this answer spent budget (false: the same query was released before). */
  readonly spent: boolean;
}

/** What `GET …/privacy` shows. */
export interface PrivacyStatus {
  readonly unit: 'participant';
  readonly accounting: 'zCDP';
  readonly budget: { readonly rho: number; readonly epsilon: number; readonly delta: number };
  readonly spent: { readonly rho: number; readonly epsilon: number };
  readonly remaining: { readonly rho: number };
  readonly minCohort: number;
  readonly live: LivePolicy | null;
  readonly releases: readonly PublishedRelease[];
}

const published = (r: PrivacyReleaseRecord): PublishedRelease => ({ n: r.n, at: r.at, what: r.what, params: JSON.parse(r.params) as Record<string, unknown>, rho: r.rhoMicro / MICRO });

/** DP releases of stored inputs, per space, against a budget (see the header). */
export class PrivacyDesk {
  readonly #o: PrivacyDeskOptions;
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(o: PrivacyDeskOptions) {
    this.#o = o;
  }

  /** The space's budget, what is spent and every release (public, R8). */
  async status(spaceId: string): Promise<PrivacyStatus> {
    const releases = await this.#o.storage.listPrivacyReleases(spaceId);
    const spentMicro = releases.reduce((s, r) => s + r.rhoMicro, 0);
    const budgetMicro = microOf(this.#o.budgetRho);
    return {
      unit: 'participant',
      accounting: 'zCDP',
      budget: { rho: budgetMicro / MICRO, epsilon: epsilonOf(budgetMicro / MICRO), delta: SHOWN_DELTA },
      spent: { rho: spentMicro / MICRO, epsilon: epsilonOf(spentMicro / MICRO) },
      remaining: { rho: (budgetMicro - spentMicro) / MICRO },
      minCohort: this.#o.minCohort,
      live: this.#o.live,
      releases: releases.map(published),
    };
  }

  /** The space's privacy report (V4): what is stored, budget use, retention — read-only. */
  report(space: SpaceRecord, retentionMs: number): Promise<PrivacyReport> {
    return privacyReport(this.#o.storage, space, { budgetRho: this.#o.budgetRho, retentionMs });
  }

  /** A published series release by number, or the latest one (n absent). */
  async series(spaceId: string, n?: number): Promise<SeriesRelease | null> {
    const releases = (await this.#o.storage.listPrivacyReleases(spaceId)).filter((r) => r.what === 'series');
    const r = n === undefined ? releases[releases.length - 1] : releases.find((x) => x.n === n);
    return r ? { ...published(r), ...(JSON.parse(r.body) as { points: DpSeriesPoint[]; sigma: number }), spent: false } : null;
  }

  /** Releases the series of a period (steward), spending ρ unless the same query was released. */
  releaseSeries(space: SpaceRecord, req: SeriesRequest): Promise<Result<SeriesRelease>> {
    return this.#queued(space.id, () => this.#releaseSeries(space, req));
  }

  /** A published contagion release by number, or the latest one (n absent). */
  async contagion(spaceId: string, n?: number): Promise<ContagionRelease | null> {
    const releases = (await this.#o.storage.listPrivacyReleases(spaceId)).filter((r) => r.what === 'contagion');
    const r = n === undefined ? releases[releases.length - 1] : releases.find((x) => x.n === n);
    return r ? { ...published(r), ...(JSON.parse(r.body) as DpContagion), spent: false } : null;
  }

  /** Releases the contagion index of a period (steward, H10), spending ρ unless the same period was released. */
  releaseContagion(space: SpaceRecord, req: ContagionRequest): Promise<Result<ContagionRelease>> {
    return this.#queued(space.id, () => this.#releaseContagion(space, req));
  }

  /** Runs one space's requests one after another (two at once cannot both pass the same remaining budget). */
  #queued<T>(spaceId: string, f: () => Promise<T>): Promise<T> {
    const run = (this.#queues.get(spaceId) ?? Promise.resolve()).then(f);
    this.#queues.set(
      spaceId,
      run.catch(() => {}),
    );
    return run;
  }

  /** DATA_EXPIRED once retention deleted the space's raw inputs (V3): nothing new can be released. */
  async #expired(space: SpaceRecord): Promise<Result<never> | null> {
    const fresh = await this.#o.storage.getSpace(space.id);
    const at = fresh?.purgedAt ?? null;
    return at === null ? null : fail('DATA_EXPIRED', `this space's raw inputs were deleted at the end of its retention (${new Date(at).toISOString()}); the releases published before remain`);
  }

  async #releaseContagion(space: SpaceRecord, req: ContagionRequest): Promise<Result<ContagionRelease>> {
    const now = this.#o.scheduler.now();
    const from = req.from ?? space.createdAt;
    const to = req.to ?? space.closedAt ?? now;
    const rho = req.rho ?? this.#o.defaultRho ?? 0.05;
    if (!(to > from)) return fail('BAD_REQUEST', 'to must be after from');
    if (!(rho > 0 && rho <= 10)) return fail('BAD_REQUEST', 'rho must be in (0, 10]');
    const rhoMicro = microOf(rho);
    const r = await this.#release(space, { what: 'contagion', key: JSON.stringify({ from, to }), at: now, from, to, rhoMicro, label: 'this contagion index', logged: {} }, (inputs, key, n) => {
      const records: ContagionRecord[] = inputs.map((i) => ({
        participantId: i.participantId,
        at: i.affect.at,
        valence: i.affect.valence,
        arousal: i.affect.arousal,
        exposed: i.exposed,
        shownValence: i.shown?.valence ?? null,
        shownArousal: i.shown?.arousal ?? null,
      }));
      return releaseDpContagion(records, { from, to, rhoMicro }, this.#o.minCohort, key, n);
    });
    return r.ok ? ok({ ...published(r.value.record), ...r.value.body, spent: r.value.spent }) : r;
  }

  async #releaseSeries(space: SpaceRecord, req: SeriesRequest): Promise<Result<SeriesRelease>> {
    const now = this.#o.scheduler.now();
    const from = req.from ?? space.createdAt;
    const to = req.to ?? space.closedAt ?? now;
    const bucketMs = (req.bucketSeconds ?? 60) * 1000;
    const rho = req.rho ?? this.#o.defaultRho ?? 0.05;
    if (!(to > from)) return fail('BAD_REQUEST', 'to must be after from');
    if (!Number.isInteger(bucketMs) || bucketMs < 10_000) return fail('BAD_REQUEST', 'bucketSeconds must be a whole number ≥ 10');
    if (windowsOf({ from, to, bucketMs }) > MAX_WINDOWS) return fail('BAD_REQUEST', `a release holds at most ${MAX_WINDOWS} windows; use a longer bucket or a shorter period`);
    if (!(rho > 0 && rho <= 10)) return fail('BAD_REQUEST', 'rho must be in (0, 10]');
    const rhoMicro = microOf(rho);
    const params = { from, to, bucketMs };
    const query = { from, to, bucketMs, rhoMicro };
    const r = await this.#release(space, { what: 'series', key: JSON.stringify(params), at: now, from, to, rhoMicro, label: 'this series', logged: { bucketMs } }, (inputs, key, n) => {
      const points = releaseDpSeries(
        inputs.map((i) => ({ participantId: i.participantId, at: i.affect.at, valence: i.affect.valence, arousal: i.affect.arousal })),
        query,
        this.#o.minCohort,
        key,
        n,
      );
      const s2 = seriesSigma2(query);
      return { points, sigma: Math.sqrt(Number(s2.num) / Number(s2.den)) };
    });
    return r.ok ? ok({ ...published(r.value.record), ...r.value.body, spent: r.value.spent }) : r;
  }

  /**
   * One release of what the stored inputs say (R8), the same steps for every kind: a release
   * already made with the same parameters is served again (it is public; nothing more is spent);
   * otherwise it is refused past retention (V3) or past the budget, computed from the inputs with
   * the space's noise key, logged (`privacy.release`, before anything is kept or answered) and
   * stored.
   */
  async #release<B extends object>(
    space: SpaceRecord,
    o: { readonly what: string; readonly key: string; readonly at: number; readonly from: number; readonly to: number; readonly rhoMicro: number; readonly label: string; readonly logged: Readonly<Record<string, number>> },
    compute: (inputs: readonly InputRecord[], key: ReturnType<typeof keyOfSeed>, n: number) => B,
  ): Promise<Result<{ readonly record: PrivacyReleaseRecord; readonly body: B; readonly spent: boolean }>> {
    const releases = await this.#o.storage.listPrivacyReleases(space.id);
    const same = releases.find((r) => r.what === o.what && r.params === o.key);
    if (same) return ok({ record: same, body: JSON.parse(same.body) as B, spent: false });
    const expired = await this.#expired(space);
    if (expired) return expired;
    const spentMicro = releases.reduce((s, r) => s + r.rhoMicro, 0);
    const ledger = spend({ budgetMicro: microOf(this.#o.budgetRho), spentMicro }, o.rhoMicro, o.label);
    if (!ledger.ok) return ledger;
    const seed = await this.#o.storage.getSpaceSecret(space.id);
    if (!seed) return fail('UNAVAILABLE', 'this space has no noise seed yet; try again');
    const inputs = await this.#o.storage.listInputs(space.id, o.from, o.to, 10_000_000);
    const n = (releases[releases.length - 1]?.n ?? 0) + 1;
    const body = compute(inputs, keyOfSeed(seed), n);
    const logged = await this.#o.logRelease(space.id, { n, what: o.what, periodStart: o.from, periodEnd: o.to, ...o.logged, rho: o.rhoMicro / MICRO, spentRho: ledger.value.spentMicro / MICRO, budgetRho: ledger.value.budgetMicro / MICRO });
    if (!logged.ok) return logged;
    const record: PrivacyReleaseRecord = { spaceId: space.id, n, at: o.at, what: o.what, params: o.key, rhoMicro: o.rhoMicro, body: JSON.stringify(body) };
    await this.#o.storage.appendPrivacyRelease(record);
    return ok({ record, body, spent: true });
  }
}
