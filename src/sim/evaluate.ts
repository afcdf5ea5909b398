/**
 * Scoring change-point detections against ground truth, as TCPDBench does.
 *
 * Source: G. J. J. van den Burg and C. K. I. Williams, "An Evaluation of Change Point
 * Detection Algorithms", arXiv:2003.06222, 2020, §4.1 and the reference code
 * `alan-turing-institute/TCPDBench` `analysis/scripts/metrics.py` (`true_positives`,
 * `f_measure`): the start (index 0) is added to both the true and the predicted sets; a true
 * change point is a true positive when a not-yet-used prediction lies within `margin`
 * (closest first); precision = |TP| / |predictions|, recall = |TP| / |truth| (one annotator),
 * F1 = 2PR / (P + R).
 */

/** True change points that some prediction matches within `margin` (each prediction used once). */
export function truePositives(truth: readonly number[], predictions: readonly number[], margin = 5): { matched: Map<number, number> } {
  const left = new Set(predictions);
  const matched = new Map<number, number>();
  for (const tau of [...new Set(truth)].sort((a, b) => a - b)) {
    let best: number | null = null;
    let bd = Infinity;
    for (const x of left) {
      const d = Math.abs(tau - x);
      if (d <= margin && (d < bd || (d === bd && best !== null && x < best))) {
        bd = d;
        best = x;
      }
    }
    if (best !== null) {
      matched.set(tau, best);
      left.delete(best);
    }
  }
  return { matched };
}

/** Precision, recall and F1 of TCPDBench (with 0 added to both sets). */
export function fMeasure(truth: readonly number[], predictions: readonly number[], margin = 5): { precision: number; recall: number; f1: number } {
  const T = new Set([0, ...truth]);
  const X = new Set([0, ...predictions]);
  const tp = truePositives([...T], [...X], margin).matched.size;
  const precision = tp / X.size;
  const recall = tp / T.size;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/**
 * Merges detections on several metrics that belong to one event: sorted times closer than
 * `gap` to the previous one in the chain join its event, which keeps the earliest time.
 */
export function mergeEvents(times: readonly number[], gap: number): number[] {
  const s = [...times].sort((a, b) => a - b);
  const out: number[] = [];
  let last = -Infinity;
  for (const t of s) {
    if (t - last > gap) out.push(t);
    last = t;
  }
  return out;
}
