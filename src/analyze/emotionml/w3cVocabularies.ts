/**
 * The W3C "Vocabularies for EmotionML" (W3C Working Group Note, 1 April 2014) as data: the 12
 * vocabularies of `w3c/emotion-voc.emotionml`, keyed by the element id that the URI
 * `http://www.w3.org/TR/emotion-voc/xml#<id>` names. Kept as a table so that resolving a W3C
 * vocabulary needs no file read and no parse at run time (the checker is pure and runs in the
 * browser too); `emotionml.test.ts` checks the table against the document it was taken from.
 */
import type { VocabularyType } from './vocabulary.ts';

/** The document URI the W3C vocabularies are published under (fragment = vocabulary id). */
export const W3C_VOCABULARY_DOCUMENT = 'http://www.w3.org/TR/emotion-voc/xml';

/** Vocabulary id → type and item names, in document order. */
export const W3C_VOCABULARIES: Readonly<Record<string, { readonly type: VocabularyType; readonly items: readonly string[] }>> = {
  'big6': { type: 'category', items: ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'] },
  'everyday-categories': { type: 'category', items: ['affectionate', 'afraid', 'amused', 'angry', 'bored', 'confident', 'content', 'disappointed', 'excited', 'happy', 'interested', 'loving', 'pleased', 'relaxed', 'sad', 'satisfied', 'worried'] },
  'occ-categories': { type: 'category', items: ['admiration', 'anger', 'disappointment', 'distress', 'fear', 'fears-confirmed', 'gloating', 'gratification', 'gratitude', 'happy-for', 'hate', 'hope', 'joy', 'love', 'pity', 'pride', 'relief', 'remorse', 'reproach', 'resentment', 'satisfaction', 'shame'] },
  'fsre-categories': { type: 'category', items: ['anger', 'anxiety', 'being-hurt', 'compassion', 'contempt', 'contentment', 'despair', 'disappointment', 'disgust', 'fear', 'guilt', 'happiness', 'hate', 'interest', 'irritation', 'jealousy', 'joy', 'love', 'pleasure', 'pride', 'sadness', 'shame', 'stress', 'surprise'] },
  'frijda-categories': { type: 'category', items: ['anger', 'arrogance', 'desire', 'disgust', 'enjoyment', 'fear', 'humility', 'indifference', 'interest', 'resignation', 'shock', 'surprise'] },
  'pad-dimensions': { type: 'dimension', items: ['pleasure', 'arousal', 'dominance'] },
  'fsre-dimensions': { type: 'dimension', items: ['valence', 'potency', 'arousal', 'unpredictability'] },
  'intensity-dimension': { type: 'dimension', items: ['intensity'] },
  'occ-appraisals': { type: 'appraisal', items: ['desirability', 'praiseworthiness', 'appealingness', 'desirability-for-other', 'deservingness', 'liking', 'likelihood', 'effort', 'strength-of-identification', 'expectation-of-deviation', 'familiarity'] },
  'scherer-appraisals': { type: 'appraisal', items: ['suddenness', 'familiarity', 'predictability', 'intrinsic-pleasantness', 'relevance-person', 'relevance-relationship', 'relevance-social-order', 'outcome-probability', 'consonant-with-expectation', 'goal-conduciveness', 'urgency', 'agent-self', 'agent-other', 'agent-nature', 'cause-intentional', 'control', 'power', 'adjustment-possible', 'norm-compatibility', 'self-compatibility'] },
  'ema-appraisals': { type: 'appraisal', items: ['relevance', 'desirability', 'agency', 'blame', 'likelihood', 'unexpectedness', 'urgency', 'ego-involvement', 'controllability', 'changeability', 'power', 'adaptability'] },
  'frijda-action-tendencies': { type: 'action-tendency', items: ['approach', 'avoidance', 'being-with', 'attending', 'rejecting', 'nonattending', 'agonistic', 'interrupting', 'dominating', 'submitting'] },
};
