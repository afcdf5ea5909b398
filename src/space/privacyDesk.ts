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
import { type DpSeriesPoint, MAX_WINDOWS, releaseDpSeries, seriesSigma2, windowsOf } from '../core/release/dpSeries.ts';
import type { LivePolicy } from '../core/release/live.ts';
import { fail, ok, type Result } from '../core/errors.ts';
import type { Scheduler } from './scheduler.ts';
import type { PrivacyReleaseRecord, SpaceRecord, Storage } from '../storage/port.ts';

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

  /** A published series release by number, or the latest one (n absent). */
  async series(spaceId: string, n?: number): Promise<SeriesRelease | null> {
    const releases = (await this.#o.storage.listPrivacyReleases(spaceId)).filter((r) => r.what === 'series');
    const r = n === undefined ? releases[releases.length - 1] : releases.find((x) => x.n === n);
    return r ? { ...published(r), ...(JSON.parse(r.body) as { points: DpSeriesPoint[]; sigma: number }), spent: false } : null;
  }

  /** Releases the series of a period (steward), spending ρ unless the same query was released. */
  releaseSeries(space: SpaceRecord, req: SeriesRequest): Promise<Result<SeriesRelease>> {
    const run = (this.#queues.get(space.id) ?? Promise.resolve()).then(() => this.#releaseSeries(space, req));
    this.#queues.set(
      space.id,
      run.catch(() => {}),
    );
    return run;
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
    const fresh = await this.#o.storage.getSpace(space.id);
    if (fresh?.purgedAt != null) return fail('DATA_EXPIRED', `this space's raw inputs were deleted at the end of its retention (${new Date(fresh.purgedAt).toISOString()}); the releases published before remain`);
    const rhoMicro = microOf(rho);
    const params = { from, to, bucketMs };
    const key = JSON.stringify(params);
    const releases = await this.#o.storage.listPrivacyReleases(space.id);
    const same = releases.find((r) => r.what === 'series' && r.params === key);
    if (same) return ok({ ...published(same), ...(JSON.parse(same.body) as { points: DpSeriesPoint[]; sigma: number }), spent: false });
    const spentMicro = releases.reduce((s, r) => s + r.rhoMicro, 0);
    const ledger = spend({ budgetMicro: microOf(this.#o.budgetRho), spentMicro }, rhoMicro, 'this series');
    if (!ledger.ok) return ledger;
    const seed = await this.#o.storage.getSpaceSecret(space.id);
    if (!seed) return fail('UNAVAILABLE', 'this space has no noise seed yet; try again');
    const inputs = await this.#o.storage.listInputs(space.id, from, to, 10_000_000);
    const n = (releases[releases.length - 1]?.n ?? 0) + 1;
    const query = { from, to, bucketMs, rhoMicro };
    const points = releaseDpSeries(
      inputs.map((i) => ({ participantId: i.participantId, at: i.affect.at, valence: i.affect.valence, arousal: i.affect.arousal })),
      query,
      this.#o.minCohort,
      keyOfSeed(seed),
      n,
    );
    const s2 = seriesSigma2(query);
    const sigma = Math.sqrt(Number(s2.num) / Number(s2.den));
    const logged = await this.#o.logRelease(space.id, { n, what: 'series', periodStart: from, periodEnd: to, bucketMs, rho: rhoMicro / MICRO, spentRho: ledger.value.spentMicro / MICRO, budgetRho: ledger.value.budgetMicro / MICRO });
    if (!logged.ok) return logged;
    const record: PrivacyReleaseRecord = { spaceId: space.id, n, at: now, what: 'series', params: key, rhoMicro, body: JSON.stringify({ points, sigma }) };
    await this.#o.storage.appendPrivacyRelease(record);
    return ok({ ...published(record), points, sigma, spent: true });
  }
}
