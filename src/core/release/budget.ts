/**
 * The privacy accountant (SPEC R8): each space has a budget in zero-concentrated differential
 * privacy (zCDP, ρ), the privacy unit being one participant. Every release from a space's
 * stored inputs (series, exports) spends a ρ; releases compose by adding their ρ (M. Bun and
 * T. Steinke, "Concentrated Differential Privacy: Simplifications, Extensions, and Lower
 * Bounds", TCC 2016, Lemma 2.3), and a release that would take the total past the budget is
 * refused with `PRIVACY_BUDGET_EXHAUSTED`.
 *
 * - A discrete Gaussian of variance σ² on an integer query of L2 sensitivity Δ is
 *   (Δ²/(2σ²))-zCDP (Canonne–Kamath–Steinke 2020, Theorem 4), so a release asking for ρ gets
 *   σ² = Δ²/(2ρ) ({@link sigma2For}).
 * - ρ-zCDP implies (ρ + 2√(ρ·ln(1/δ)), δ)-DP for every δ > 0 (Bun–Steinke 2016, Proposition
 *   1.3); the published budget shows ε at δ = 10⁻⁶ beside ρ ({@link epsilonOf}).
 *
 * Amounts are held in micro-ρ (integers), so the ledger's arithmetic is exact.
 */
import { fail, ok, type Result } from '../errors.ts';
import { rational, type Rational } from './discrete.ts';

/** Amounts of ρ are kept as integers of 10⁻⁶ ρ. */
export const MICRO = 1_000_000;

/** The default per-space budget, ρ (≈ ε 5.76 at δ = 10⁻⁶). */
export const DEFAULT_BUDGET_RHO = 0.5;

/** The δ at which ε is shown. */
export const SHOWN_DELTA = 1e-6;

/** ρ → micro-ρ (rounded up, so the ledger never under-counts). */
export function microOf(rho: number): number {
  if (!(rho > 0) || !Number.isFinite(rho)) throw new RangeError('ρ must be positive and finite');
  return Math.ceil(rho * MICRO - 1e-9);
}

/** ε of ρ-zCDP at δ (Bun–Steinke 2016, Proposition 1.3). */
export function epsilonOf(rho: number, delta = SHOWN_DELTA): number {
  if (rho === 0) return 0;
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/** The variance of the discrete Gaussian that makes a query of L2² sensitivity `delta2` ρ-zCDP: Δ²/(2ρ), exact. */
export function sigma2For(delta2: number, rhoMicro: number): Rational {
  if (!Number.isInteger(delta2) || delta2 < 1 || !Number.isInteger(rhoMicro) || rhoMicro < 1) throw new RangeError('integer Δ² and micro-ρ');
  // Δ²/(2ρ) = Δ²·10⁶ / (2·ρµ)
  return rational(BigInt(delta2) * BigInt(MICRO), 2n * BigInt(rhoMicro));
}

/** A space's ledger: its budget and what is spent, in micro-ρ. */
export interface Ledger {
  readonly budgetMicro: number;
  readonly spentMicro: number;
}

/** Spends `rhoMicro` from a ledger, or refuses past the budget (nothing is spent then). */
export function spend(ledger: Ledger, rhoMicro: number, what: string): Result<Ledger> {
  if (!Number.isInteger(rhoMicro) || rhoMicro < 1) return fail('BAD_REQUEST', 'rho must be positive');
  const after = ledger.spentMicro + rhoMicro;
  if (after > ledger.budgetMicro) {
    const left = (ledger.budgetMicro - ledger.spentMicro) / MICRO;
    return fail('PRIVACY_BUDGET_EXHAUSTED', `${what} needs ρ = ${rhoMicro / MICRO}, but this space has only ρ = ${left} of its ${ledger.budgetMicro / MICRO} left`);
  }
  return ok({ budgetMicro: ledger.budgetMicro, spentMicro: after });
}
