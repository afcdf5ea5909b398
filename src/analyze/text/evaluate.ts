/** Scores an analyser against rated rows: Pearson r per dimension. */
import type { EmoBankRow } from './emobank.ts';
import { pearson } from './stats.ts';

/** Pearson r of an analyser's valence and arousal against EmoBank ratings. */
export interface DevScore {
  readonly valence: number;
  readonly arousal: number;
}

/** Runs `analyse` over `rows` and correlates with the ratings. */
export function scoreAnalyzer(rows: readonly EmoBankRow[], analyse: (text: string) => { valence: number; arousal: number }): DevScore {
  const pv = new Float64Array(rows.length);
  const pa = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    const p = analyse(r.text);
    pv[i] = p.valence;
    pa[i] = p.arousal;
  });
  return {
    valence: pearson(pv, rows.map((r) => r.v)),
    arousal: pearson(pa, rows.map((r) => r.a)),
  };
}
