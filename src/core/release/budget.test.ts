import { describe, expect, it } from 'vitest';
import { epsilonOf, MICRO, microOf, sigma2For, spend } from './budget.ts';

describe('privacy accountant (R8)', () => {
  it('[R8] zCDP composes by adding ρ (Bun–Steinke 2016, Lemma 2.3), exactly, and refuses past the budget', () => {
    let ledger = { budgetMicro: microOf(0.5), spentMicro: 0 };
    for (let i = 0; i < 5; i++) {
      const r = spend(ledger, microOf(0.1), 'a series');
      expect(r.ok).toBe(true);
      if (r.ok) ledger = r.value;
    }
    // 5 × 0.1 = 0.5 exactly (no floating-point drift: 0.1 + … + 0.1 ≠ 0.5 in doubles).
    expect(ledger.spentMicro).toBe(0.5 * MICRO);
    const refused = spend(ledger, 1, 'one more');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.code).toBe('PRIVACY_BUDGET_EXHAUSTED');
  });

  it('[R8] ρ → (ε, δ): ε = ρ + 2√(ρ ln 1/δ) (Bun–Steinke 2016, Prop. 1.3), against worked values', () => {
    // ρ = 0.5, δ = 1e-6: 0.5 + 2·√(0.5 · 13.8155…) = 5.7566…
    expect(epsilonOf(0.5, 1e-6)).toBeCloseTo(5.7566, 3);
    // ρ = ε²/2 for the Gaussian mechanism with σ = Δ/ε (Bun–Steinke Prop. 1.6): ε = 1 → ρ = 0.5.
    // ρ = 0.01, δ = 1e-5: 0.01 + 2·√(0.01 · 11.5129…) = 0.6886…
    expect(epsilonOf(0.01, 1e-5)).toBeCloseTo(0.6886, 3);
    expect(epsilonOf(0)).toBe(0);
  });

  it('[R8] the discrete Gaussian for ρ has σ² = Δ²/(2ρ) (Canonne–Kamath–Steinke 2020, Thm 4), exact', () => {
    const s = sigma2For(3, microOf(0.25));
    expect(Number(s.num) / Number(s.den)).toBe(6);
    expect(() => sigma2For(0, 1)).toThrow(RangeError);
  });
});
