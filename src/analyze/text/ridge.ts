/**
 * Ridge regression on a sparse design matrix, solved by Jacobi-preconditioned conjugate
 * gradients on the normal equations (XᵀX + Λ) w = Xᵀy, with an unpenalised intercept.
 *
 * Sources: Hoerl & Kennard, "Ridge Regression", Technometrics 1970; Hestenes & Stiefel,
 * "Methods of Conjugate Gradients for Solving Linear Systems", J. Res. NBS 1952; Shewchuk,
 * "An Introduction to the Conjugate Gradient Method Without the Agonizing Pain", 1994 (§12,
 * preconditioning). Deterministic: no randomness, fixed iteration order.
 */

/** A compressed-sparse-row matrix. */
export interface SparseMatrix {
  readonly rows: number;
  readonly cols: number;
  /** Row r's entries are `[rowPtr[r], rowPtr[r+1])`. */
  readonly rowPtr: Int32Array;
  readonly index: Int32Array;
  readonly value: Float64Array;
}

/** Options for {@link fitRidge}. */
export interface RidgeOptions {
  /** Penalty per column (length `cols`); the intercept is never penalised. */
  readonly penalty: Float64Array;
  /** Maximum CG iterations. */
  readonly maxIter?: number;
  /** Stop when ‖residual‖ / ‖Xᵀy‖ falls below this. */
  readonly tol?: number;
  /** Optional per-row weights. */
  readonly sampleWeight?: Float64Array;
}

/** A fitted linear model. */
export interface LinearFit {
  readonly weights: Float64Array;
  readonly bias: number;
  readonly iterations: number;
}

/** y ← X v + b. */
export function multiply(X: SparseMatrix, v: Float64Array, b: number, out: Float64Array): void {
  const { rowPtr, index, value } = X;
  for (let r = 0; r < X.rows; r++) {
    let s = b;
    const end = rowPtr[r + 1] as number;
    for (let k = rowPtr[r] as number; k < end; k++) s += (value[k] as number) * (v[index[k] as number] as number);
    out[r] = s;
  }
}

/** Fits ridge regression of `y` on `X`. */
export function fitRidge(X: SparseMatrix, y: Float64Array, opts: RidgeOptions): LinearFit {
  const { rows, cols, rowPtr, index, value } = X;
  const pen = opts.penalty;
  const sw = opts.sampleWeight;
  const maxIter = opts.maxIter ?? 400;
  const tol = opts.tol ?? 1e-6;
  // Unknowns: cols weights + 1 intercept (slot `cols`).
  const dim = cols + 1;
  const diag = new Float64Array(dim);
  const b = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const w = sw ? (sw[r] as number) : 1;
    const yr = (y[r] as number) * w;
    const end = rowPtr[r + 1] as number;
    for (let k = rowPtr[r] as number; k < end; k++) {
      const j = index[k] as number;
      const x = value[k] as number;
      diag[j] = (diag[j] as number) + w * x * x;
      b[j] = (b[j] as number) + x * yr;
    }
    diag[cols] = (diag[cols] as number) + w;
    b[cols] = (b[cols] as number) + yr;
  }
  for (let j = 0; j < cols; j++) diag[j] = (diag[j] as number) + (pen[j] as number);
  const precond = new Float64Array(dim);
  for (let j = 0; j < dim; j++) precond[j] = (diag[j] as number) > 0 ? 1 / (diag[j] as number) : 0;

  const Xv = new Float64Array(rows);
  const applyA = (v: Float64Array, out: Float64Array): void => {
    multiply(X, v, v[cols] as number, Xv);
    out.fill(0);
    let sumBias = 0;
    for (let r = 0; r < rows; r++) {
      const u = (Xv[r] as number) * (sw ? (sw[r] as number) : 1);
      sumBias += u;
      const end = rowPtr[r + 1] as number;
      for (let k = rowPtr[r] as number; k < end; k++) {
        const j = index[k] as number;
        out[j] = (out[j] as number) + (value[k] as number) * u;
      }
    }
    out[cols] = sumBias;
    for (let j = 0; j < cols; j++) out[j] = (out[j] as number) + (pen[j] as number) * (v[j] as number);
  };

  const w = new Float64Array(dim);
  const r = Float64Array.from(b);
  const z = new Float64Array(dim);
  for (let j = 0; j < dim; j++) z[j] = (r[j] as number) * (precond[j] as number);
  const p = Float64Array.from(z);
  const Ap = new Float64Array(dim);
  let rz = dot(r, z);
  const bnorm = Math.sqrt(dot(b, b)) || 1;
  let it = 0;
  for (; it < maxIter; it++) {
    applyA(p, Ap);
    const pAp = dot(p, Ap);
    if (!(pAp > 0)) break;
    const alpha = rz / pAp;
    for (let j = 0; j < dim; j++) {
      w[j] = (w[j] as number) + alpha * (p[j] as number);
      r[j] = (r[j] as number) - alpha * (Ap[j] as number);
    }
    if (Math.sqrt(dot(r, r)) / bnorm < tol) {
      it++;
      break;
    }
    for (let j = 0; j < dim; j++) z[j] = (r[j] as number) * (precond[j] as number);
    const rzNew = dot(r, z);
    const beta = rzNew / rz;
    rz = rzNew;
    for (let j = 0; j < dim; j++) p[j] = (z[j] as number) + beta * (p[j] as number);
  }
  return { weights: w.subarray(0, cols), bias: w[cols] as number, iterations: it };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}
