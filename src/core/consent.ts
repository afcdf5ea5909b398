/**
 * The consent text (SPEC V1): the one wording the participant page shows before anyone joins,
 * kept here so that the server can record *which* text a person agreed to — by the SHA-256 of
 * {@link consentDocument} — and ask again when it changes. `{minutes}` stands for the space's
 * point lifetime; the groups paragraph is shown only in spaces with groups. Changing any word
 * here changes the version: every participant is asked again at their next visit.
 *
 * Stories have their own consent step (SPEC ST2): {@link STORY_CONSENT_TEXT}, versioned the same
 * way by {@link storyConsentDocument}'s SHA-256 and recorded as a `stories` consent; a story is
 * taken only from someone whose latest `stories` consent is to the current text.
 */

/** What a participant agrees to on the consent screen at join, by purpose. Research comes later. */
export const CONSENT_PURPOSES = ['pulse'] as const;

/** What a participant agrees to in a story's own consent step (SPEC ST2, V1). */
export const STORY_CONSENT_PURPOSES = ['stories'] as const;

/** A purpose of consent. */
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number] | (typeof STORY_CONSENT_PURPOSES)[number];

/** The consent screen's sections, in order (plain text; the page adds emphasis only). */
export const CONSENT_TEXT = {
  collected:
    'Where you tap on a feelings grid (how pleasant, how energised), or a sentence you type — which is turned into such a point on the server and then thrown away. No name, no account, no contacts, no location. This device keeps a random session key so you can come back.',
  seen: 'Only the whole room: how many people, and how feelings are spread, always with a little noise and in steps of several people. Never your own point — and nothing at all until at least 5 people have joined.',
  groups:
    "You may say which group you belong to. If you do, your group's pulse is shown beside the room's — how many of the group are here and how they feel, together — but only while enough of the group share that no one can be picked out; smaller groups stay hidden. Your choice is stored with your random key and never shown. You can change it or take it back at any time.",
  kept: 'Your point counts in the room for {minutes} after your last input; you can leave at any time and it disappears at once. Your inputs are stored on this server under the random key only, encrypted with a key of your own. You can download everything stored about you, or erase it, from this page at any time.',
} as const;

/** The canonical text whose SHA-256 is the consent version (sections joined, in order). */
export function consentDocument(): string {
  return `attune consent v1\n${CONSENT_PURPOSES.join(',')}\n${Object.entries(CONSENT_TEXT)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')}\n`;
}

/**
 * A story's own consent step (SPEC ST2): where a story may appear, under which name, what the
 * server does with its words, and that it can be withdrawn. `{when}` stands for one of
 * {@link STORY_CONSENT_WHEN}, by the space's moderation. Each section is a label and its text.
 */
export const STORY_CONSENT_TEXT = {
  intro: { label: '', text: 'A story is separate from your taps. Before you write one, here is exactly what happens to it:' },
  where: { label: 'Where it may appear', text: "on this room's gathering display, {when}; in the steward's moderation queue; and in this session's story export." },
  name: { label: 'Your name', text: 'it is shown under a pseudonym you choose, or with no name at all.' },
  words: { label: 'Your words', text: 'the server reads them to place the story on the feelings field and shows you that reading. The story is never linked to your taps in anything anyone else sees.' },
  withdraw: { label: 'Taking it back', text: 'you can withdraw it at any time; it leaves every screen at once and is deleted.' },
} as const;

/** When an approved story shows, by the space's moderation (the `{when}` of {@link STORY_CONSENT_TEXT}). */
export const STORY_CONSENT_WHEN = {
  pre: 'once the steward approves it',
  post: 'at once (the steward can take it down)',
} as const;

/** The canonical text whose SHA-256 is the story consent version (both moderation wordings included). */
export function storyConsentDocument(): string {
  const sections = Object.entries(STORY_CONSENT_TEXT).map(([k, v]) => `${k}: ${v.label ? `${v.label}: ` : ''}${v.text}`);
  const when = Object.entries(STORY_CONSENT_WHEN).map(([k, v]) => `when.${k}: ${v}`);
  return `attune story consent v1\n${STORY_CONSENT_PURPOSES.join(',')}\n${[...sections, ...when].join('\n')}\n`;
}
