/**
 * The consent text (SPEC V1): the one wording the participant page shows before anyone joins,
 * kept here so that the server can record *which* text a person agreed to — by the SHA-256 of
 * {@link consentDocument} — and ask again when it changes. `{minutes}` stands for the space's
 * point lifetime; the groups paragraph is shown only in spaces with groups. Changing any word
 * here changes the version: every participant is asked again at their next visit.
 */

/** What a participant agrees to, by purpose. Stories and research come later. */
export const CONSENT_PURPOSES = ['pulse'] as const;

/** A purpose of consent. */
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

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
