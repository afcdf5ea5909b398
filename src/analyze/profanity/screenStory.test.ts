import { describe, expect, it } from 'vitest';
import { joinSpacedLetters, screenStory } from './screenStory.ts';

describe('the automatic first pass (SPEC ST4)', () => {
  it('[ST4] the Scunthorpe problem: innocent words and places obscenity 0.4.6 flags are whitelisted', () => {
    for (const t of ['I grew shiitake mushrooms', 'We drove to Penistone', 'Dick Van Dyke sang', 'Scunthorpe United', 'in the cockpit', 'a pussycat purred', 'Shitterton in Dorset', 'Clitheroe, Cockburn, Sussex, Essex', 'the assassin class', 'therapist', 'cumulative analysis']) {
      expect(screenStory(t), t).toEqual([]);
    }
  });

  it('[ST4] flags profanity, also leetspeak and spaced-out letters, by word', () => {
    expect(screenStory('you fucking idiot')).toEqual(['profanity:fuck']);
    expect(screenStory('sh1t happens')).toEqual(['profanity:shit']);
    expect(screenStory('f u c k this, f.u.c.k that')).toEqual(['profanity:fuck']);
    expect(screenStory('Penistone and shit')).toEqual(['profanity:shit']);
    expect(joinSpacedLetters('a b c and f-u-c-k')).toEqual(['abc', 'fuck']);
  });
});
