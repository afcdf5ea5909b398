/**
 * Types for `vader-sentiment` 1.1.3 (CommonJS, ships none): the one call attune uses.
 * Source: the package's README and `src/vaderSentiment.js`.
 */
declare module 'vader-sentiment' {
  /** VADER's scores for one text: proportions of negative/neutral/positive and the normalised compound in [-1, 1]. */
  export interface PolarityScores {
    readonly neg: number;
    readonly neu: number;
    readonly pos: number;
    readonly compound: number;
  }
  /** The analyser. */
  export const SentimentIntensityAnalyzer: {
    polarity_scores(text: string): PolarityScores;
  };
  const vader: { readonly SentimentIntensityAnalyzer: typeof SentimentIntensityAnalyzer };
  export default vader;
}
