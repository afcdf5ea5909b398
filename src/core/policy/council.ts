/**
 * A council's own rules (SPEC Q1–Q2): who its members are, how many yes votes adopt a proposal
 * (the quorum) and how long a proposal stays open. Pure data and pure checks; the space machine
 * (governance.ts) applies them.
 *
 *   quorum  "majority" (more than half of the members at the time of the vote) or an integer ≥ 1
 *   proposalSeconds  60 … 604 800 (a week); default 3 600
 *   prompts  reflection prompts the council approved for `reflect` feedback (≤ 10, ≤ 120 chars)
 */

/** The quorum rule. */
export type Quorum = 'majority' | number;

/** A council's rules. Changing them is itself a proposal. */
export interface CouncilRules {
  readonly quorum: Quorum;
  readonly proposalSeconds: number;
  readonly prompts: readonly string[];
}

/** Defaults of a new council. */
export const DEFAULT_RULES: CouncilRules = { quorum: 'majority', proposalSeconds: 3600, prompts: ['What would help you right now?'] };

/** Most members of a council. */
export const MAX_MEMBERS = 50;
/** Longest member display name, characters. */
export const MAX_MEMBER_NAME = 40;

/** Checks rules written as JSON (missing fields take the defaults). */
export function checkRules(json: unknown): { ok: true; rules: CouncilRules } | { ok: false; message: string } {
  if (json === undefined || json === null) return { ok: true, rules: DEFAULT_RULES };
  if (typeof json !== 'object' || Array.isArray(json)) return { ok: false, message: 'rules must be an object {quorum?, proposalSeconds?, prompts?}' };
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['quorum', 'proposalSeconds', 'prompts'].includes(k)) return { ok: false, message: `${k} is not a council rule (rules: quorum, proposalSeconds, prompts)` };
  const quorum = o.quorum ?? DEFAULT_RULES.quorum;
  if (quorum !== 'majority' && !(typeof quorum === 'number' && Number.isInteger(quorum) && quorum >= 1 && quorum <= MAX_MEMBERS)) return { ok: false, message: `quorum must be "majority" or an integer in [1, ${MAX_MEMBERS}]` };
  const proposalSeconds = o.proposalSeconds ?? DEFAULT_RULES.proposalSeconds;
  if (typeof proposalSeconds !== 'number' || !Number.isInteger(proposalSeconds) || proposalSeconds < 60 || proposalSeconds > 604_800) return { ok: false, message: 'proposalSeconds must be an integer in [60, 604800]' };
  const prompts = o.prompts ?? DEFAULT_RULES.prompts;
  if (!Array.isArray(prompts) || prompts.length > 10 || prompts.some((p) => typeof p !== 'string' || p.trim().length === 0 || [...p].length > 120 || /[\p{Cc}]/u.test(p))) return { ok: false, message: 'prompts must be at most 10 texts of 1–120 characters' };
  return { ok: true, rules: { quorum: quorum as Quorum, proposalSeconds, prompts: prompts.map((p: string) => p.trim()) } };
}

/** Yes votes needed to adopt with `members` members. */
export function votesNeeded(rules: CouncilRules, members: number): number {
  return rules.quorum === 'majority' ? Math.floor(members / 2) + 1 : rules.quorum;
}

/** Checks a member's display name (public on the log). */
export function checkMemberName(name: unknown): { ok: true; name: string } | { ok: false; message: string } {
  if (typeof name !== 'string') return { ok: false, message: 'name must be text' };
  const n = name.trim().normalize('NFC');
  if (n.length === 0 || [...n].length > MAX_MEMBER_NAME || /[\p{Cc}\p{Cf}]/u.test(n)) return { ok: false, message: `name must be 1–${MAX_MEMBER_NAME} characters, no control characters` };
  return { ok: true, name: n };
}
