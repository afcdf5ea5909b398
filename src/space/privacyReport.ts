/**
 * The privacy report of one space (SPEC V4, `attune privacy report CODE`, `GET …/privacy/report`):
 * what is stored about its people (counts only), its DP budget use and its retention date — the
 * figures an operator or steward needs to answer "what do you hold about us, and until when?".
 * Read-only: it steps no machine, spends nothing and logs nothing. The CLI builds it from a
 * database directly (`--db`), the server for a steward over HTTP; both call {@link privacyReport}.
 */
import { epsilonOf, MICRO, microOf, SHOWN_DELTA } from '../core/release/budget.ts';
import { retentionDue } from '../core/retention.ts';
import type { SpaceRecord, Storage, StoredCounts } from '../storage/port.ts';

/** A space's privacy report. */
export interface PrivacyReport {
  readonly space: { readonly code: string; readonly name: string; readonly status: 'open' | 'closed'; readonly createdAt: number; readonly closedAt: number | null };
  /** What is stored about its people now (S17). */
  readonly stored: StoredCounts;
  readonly budget: {
    readonly accounting: 'zCDP';
    readonly rho: number;
    readonly epsilon: number;
    readonly delta: number;
    readonly spentRho: number;
    readonly spentEpsilon: number;
    readonly remainingRho: number;
    readonly releases: readonly { readonly n: number; readonly at: number; readonly what: string; readonly rho: number }[];
  };
  readonly retention: {
    readonly days: number;
    /** When the raw data is due for deletion (null while the space is open). */
    readonly retainUntil: number | null;
    /** When it was deleted (null while kept). */
    readonly purgedAt: number | null;
  };
}

/** Builds the report of `space` from storage; `budgetRho` and `retentionMs` are the server's settings. */
export async function privacyReport(storage: Storage, space: SpaceRecord, settings: { readonly budgetRho: number; readonly retentionMs: number }): Promise<PrivacyReport> {
  const [stored, releases] = await Promise.all([storage.storedCounts(space.id), storage.listPrivacyReleases(space.id)]);
  const budgetMicro = microOf(settings.budgetRho);
  const spentMicro = releases.reduce((s, r) => s + r.rhoMicro, 0);
  return {
    space: { code: space.code, name: space.name, status: space.status, createdAt: space.createdAt, closedAt: space.closedAt },
    stored,
    budget: {
      accounting: 'zCDP',
      rho: budgetMicro / MICRO,
      epsilon: epsilonOf(budgetMicro / MICRO),
      delta: SHOWN_DELTA,
      spentRho: spentMicro / MICRO,
      spentEpsilon: epsilonOf(spentMicro / MICRO),
      remainingRho: (budgetMicro - spentMicro) / MICRO,
      releases: releases.map((r) => ({ n: r.n, at: r.at, what: r.what, rho: r.rhoMicro / MICRO })),
    },
    retention: { days: (space.retentionMs ?? settings.retentionMs) / 86_400_000, retainUntil: retentionDue(space, settings.retentionMs), purgedAt: space.purgedAt ?? null },
  };
}

const date = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z'));

/** The report as text, for `attune privacy report`. */
export function formatPrivacyReport(r: PrivacyReport): string {
  const s = r.stored;
  const b = r.budget;
  const lines = [
    `Privacy report for ${r.space.code} "${r.space.name}" (${r.space.status}; created ${date(r.space.createdAt)}${r.space.closedAt !== null ? `, closed ${date(r.space.closedAt)}` : ''})`,
    '',
    'Stored about its people:',
    `  participants  ${s.participants}`,
    `  inputs        ${s.inputs} (${s.sealedInputs} sealed under a participant's own key)`,
    `  erased        ${s.erased} participant(s) erased themselves`,
    `  consents      ${s.consents}`,
    `  stories       ${s.stories}`,
    `  events        ${s.events} (recorded for replay)`,
    '',
    `Privacy budget (${b.accounting}, per participant): ρ ${b.rho} (ε ${b.epsilon.toFixed(2)} at δ ${b.delta})`,
    `  spent         ρ ${b.spentRho} (ε ${b.spentEpsilon.toFixed(2)}) in ${b.releases.length} release(s)`,
    `  remaining     ρ ${b.remainingRho}`,
    ...b.releases.map((x) => `  release ${x.n}  ${x.what}, ρ ${x.rho}, ${date(x.at)}`),
    '',
    `Retention: raw data kept ${r.retention.days} day(s) after the space closes`,
    r.retention.purgedAt !== null
      ? `  deleted       ${date(r.retention.purgedAt)} (only released aggregates remain)`
      : r.retention.retainUntil !== null
        ? `  deleted on    ${date(r.retention.retainUntil)} or at the first retention run after it`
        : '  deleted       after the space closes, plus that time',
  ];
  return `${lines.join('\n')}\n`;
}
