/**
 * Bayesian online change-point detection with a Normal–Gamma model (unknown mean and
 * variance) and a constant hazard.
 *
 * Source: R. P. Adams and D. J. C. MacKay, "Bayesian Online Changepoint Detection",
 * arXiv:0710.3742, 2007, Algorithm 1; the Normal–Gamma predictive (Student-t with 2α
 * degrees of freedom, location μ, scale² β(κ+1)/(ακ)) from K. P. Murphy, "Conjugate Bayesian
 * analysis of the Gaussian distribution", 2007, §8. Run lengths are truncated at `maxRun`
 * (mass beyond it is folded into the last entry), so a step is O(maxRun).
 */

/** Prior and hazard of a {@link Bocpd}. */
export interface BocpdOptions {
  /** Expected segment length in observations (hazard = 1 / this). */
  readonly expectedRun: number;
  /** Prior mean. */
  readonly mu0: number;
  /** Prior pseudo-count on the mean. */
  readonly kappa0: number;
  /** Prior shape of the precision. */
  readonly alpha0: number;
  /** Prior rate of the precision (prior variance guess ≈ beta0 / alpha0). */
  readonly beta0: number;
  /** Largest run length kept. */
  readonly maxRun: number;
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xx = x - 1;
  let a = c[0] as number;
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}

function studentLogPdf(x: number, nu: number, mu: number, scale2: number): number {
  const z = ((x - mu) * (x - mu)) / (nu * scale2);
  return logGamma((nu + 1) / 2) - logGamma(nu / 2) - 0.5 * Math.log(nu * Math.PI * scale2) - ((nu + 1) / 2) * Math.log1p(z);
}

/** Online run-length posterior of Adams & MacKay (2007). */
export class Bocpd {
  readonly options: BocpdOptions;
  private probs: Float64Array;
  private mu: Float64Array;
  private kappa: Float64Array;
  private alpha: Float64Array;
  private beta: Float64Array;
  private len = 1;

  constructor(options: BocpdOptions) {
    if (!(options.expectedRun > 1) || !(options.kappa0 > 0) || !(options.alpha0 > 0) || !(options.beta0 > 0) || !(options.maxRun >= 2)) {
      throw new RangeError('invalid BOCPD options');
    }
    this.options = options;
    const m = options.maxRun + 1;
    this.probs = new Float64Array(m);
    this.mu = new Float64Array(m);
    this.kappa = new Float64Array(m);
    this.alpha = new Float64Array(m);
    this.beta = new Float64Array(m);
    this.probs[0] = 1;
    this.mu[0] = options.mu0;
    this.kappa[0] = options.kappa0;
    this.alpha[0] = options.alpha0;
    this.beta[0] = options.beta0;
  }

  /** Feeds one observation and updates the run-length posterior. */
  step(x: number): void {
    const o = this.options;
    const h = 1 / o.expectedRun;
    const n = this.len;
    const m = Math.min(n + 1, o.maxRun + 1);
    const np = new Float64Array(o.maxRun + 1);
    let cp = 0;
    for (let r = 0; r < n; r++) {
      const a = this.alpha[r] as number;
      const k = this.kappa[r] as number;
      const pred = Math.exp(studentLogPdf(x, 2 * a, this.mu[r] as number, ((this.beta[r] as number) * (k + 1)) / (a * k)));
      const joint = (this.probs[r] as number) * pred;
      cp += joint * h;
      const to = Math.min(r + 1, o.maxRun);
      np[to] = (np[to] as number) + joint * (1 - h);
    }
    np[0] = cp;
    let z = 0;
    for (let r = 0; r < m; r++) z += np[r] as number;
    if (!(z > 0) || !Number.isFinite(z)) {
      // Numerical underflow (an observation wildly out of every segment): restart.
      np.fill(0);
      np[0] = 1;
      z = 1;
    }
    for (let r = 0; r < m; r++) np[r] = (np[r] as number) / z;
    // Posterior parameters: shift by one and update with x; index 0 is the prior.
    const nmu = new Float64Array(o.maxRun + 1);
    const nka = new Float64Array(o.maxRun + 1);
    const nal = new Float64Array(o.maxRun + 1);
    const nbe = new Float64Array(o.maxRun + 1);
    nmu[0] = o.mu0;
    nka[0] = o.kappa0;
    nal[0] = o.alpha0;
    nbe[0] = o.beta0;
    for (let r = 0; r < n; r++) {
      const to = Math.min(r + 1, o.maxRun);
      if (to === o.maxRun && r + 1 > o.maxRun) continue; // folded: keep the longer run's parameters
      const k = this.kappa[r] as number;
      const mu = this.mu[r] as number;
      nmu[to] = (k * mu + x) / (k + 1);
      nka[to] = k + 1;
      nal[to] = (this.alpha[r] as number) + 0.5;
      nbe[to] = (this.beta[r] as number) + (k * (x - mu) * (x - mu)) / (2 * (k + 1));
    }
    this.probs = np;
    this.mu = nmu;
    this.kappa = nka;
    this.alpha = nal;
    this.beta = nbe;
    this.len = m;
  }

  /** P(run length < r): the probability that a change happened within the last r observations. */
  probabilityOfChangeWithin(r: number): number {
    let p = 0;
    for (let i = 0; i < Math.min(r, this.len); i++) p += this.probs[i] as number;
    return Math.min(1, p);
  }

  /** The most probable run length. */
  mapRunLength(): number {
    let best = 0;
    for (let i = 1; i < this.len; i++) if ((this.probs[i] as number) > (this.probs[best] as number)) best = i;
    return best;
  }
}
