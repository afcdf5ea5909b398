/**
 * Space templates — "emotional environments" (SPEC Q14): one JSON file bundling what a kind of
 * gathering needs — allowed inputs, the grid's words, the display mode, groups, capacity, TTL and
 * retention,
 * the council's rules and reflection prompts, and feedback policies to propose at creation.
 * Validated with the same checks and error codes as the API (policies by checkPolicy, with their
 * POLICY_* codes; everything else TEMPLATE_INVALID naming the field).
 *
 * Extensible: the validator is a table of field checkers ({@link TEMPLATE_FIELDS}); a feature
 * adds its fields with {@link extendTemplateFields} (e.g. stories' `reflective-gathering` adds a
 * `stories` field) and every template, shipped or a user's file, is checked against the table.
 * Unknown fields are refused, so a typo never passes silently.
 */
import { DISPLAY_MODES, isDisplayMode } from '../displayMode.ts';
import type { ErrorCode } from '../errors.ts';
import { checkGroupNames } from '../groups/groupNames.ts';
import { checkPolicy, type PolicySpec } from '../policy/checkPolicy.ts';
import { checkRules, type CouncilRules } from '../policy/council.ts';
import { checkRetentionDays } from '../retention.ts';

/** A checked template. Fields added by extensions are kept under their names. */
export interface SpaceTemplate {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputs: { readonly tap: boolean; readonly text: boolean; readonly heart: boolean };
  readonly words: { readonly pleasant: string; readonly unpleasant: string; readonly calm: string; readonly energised: string } | null;
  readonly displayMode: string | null;
  readonly groups: readonly string[];
  readonly capacity: number | null;
  readonly ttlSeconds: number | null;
  /** Days raw data about people is kept after the space closes (V3), or null: the server's `--retention`. */
  readonly retentionDays: number | null;
  /** The council created with the space (rules incl. prompts), or null for none. */
  readonly council: CouncilRules | null;
  readonly policies: readonly PolicySpec[];
  readonly [extra: string]: unknown;
}

/** Why a template was refused. */
export interface TemplateProblem {
  readonly code: ErrorCode;
  readonly message: string;
}

/** What a field checker sees: the raw template, and the values checked so far (in table order). */
export interface FieldContext {
  readonly raw: Readonly<Record<string, unknown>>;
  readonly checked: Readonly<Record<string, unknown>>;
}

/** A field checker: the normalised value, or a problem (its message names the field). */
export type FieldChecker = (value: unknown, ctx: FieldContext) => { ok: true; value: unknown } | { ok: false; problem: TemplateProblem };

const bad = (message: string, code: ErrorCode = 'TEMPLATE_INVALID') => ({ ok: false as const, problem: { code, message } });
const good = (value: unknown) => ({ ok: true as const, value });
const text = (v: unknown, max: number) => typeof v === 'string' && v.trim().length > 0 && [...v].length <= max && !/[\p{Cc}]/u.test(v);

/** The fields of a template, checked in this order (later fields may read earlier ones). */
export const TEMPLATE_FIELDS: Readonly<Record<string, FieldChecker>> = {
  name: (v) => (typeof v === 'string' && /^[a-z0-9][a-z0-9-]{0,39}$/.test(v) ? good(v) : bad('name: 1–40 lowercase letters, digits and dashes')),
  title: (v, c) => (v === undefined ? good(c.raw.name) : text(v, 60) ? good(String(v).trim()) : bad('title: 1–60 characters of text')),
  description: (v) => (v === undefined ? good('') : typeof v === 'string' && [...v].length <= 600 ? good(v.trim()) : bad('description: at most 600 characters')),
  inputs: (v) => {
    if (v === undefined) return good({ tap: true, text: true, heart: true });
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('inputs: an object {tap, text, heart} of booleans');
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['tap', 'text', 'heart'].includes(k)) return bad(`inputs.${k}: not an input (tap, text, heart)`);
    const out = { tap: o.tap ?? true, text: o.text ?? true, heart: o.heart ?? true };
    if (Object.values(out).some((x) => typeof x !== 'boolean')) return bad('inputs: each of tap, text, heart is true or false');
    if (!out.tap && !out.text && !out.heart) return bad('inputs: allow at least one input');
    return good(out);
  },
  words: (v) => {
    if (v === undefined) return good(null);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('words: an object {pleasant, unpleasant, calm, energised}');
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['pleasant', 'unpleasant', 'calm', 'energised'].includes(k)) return bad(`words.${k}: not a grid word (pleasant, unpleasant, calm, energised)`);
    for (const k of ['pleasant', 'unpleasant', 'calm', 'energised']) if (!text(o[k], 24)) return bad(`words.${k}: 1–24 characters of text`);
    return good({ pleasant: o.pleasant, unpleasant: o.unpleasant, calm: o.calm, energised: o.energised });
  },
  displayMode: (v) => (v === undefined ? good(null) : isDisplayMode(v) ? good(v) : bad(`displayMode: one of ${DISPLAY_MODES.join(', ')}`)),
  groups: (v) => {
    if (v === undefined) return good([]);
    if (!Array.isArray(v) || v.some((g) => typeof g !== 'string')) return bad('groups: a list of group names');
    const r = checkGroupNames(v as string[]);
    return r.ok ? good(r.value) : bad(`groups: ${r.message}`);
  },
  capacity: (v) => (v === undefined ? good(null) : Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 100_000 ? good(v) : bad('capacity: an integer in [1, 100000]')),
  ttlSeconds: (v) => (v === undefined ? good(null) : typeof v === 'number' && Number.isFinite(v) && v >= 5 && v <= 86_400 ? good(v) : bad('ttlSeconds: a number in [5, 86400]')),
  // How long raw data about people is kept after the space closes (V3); the API's own check.
  retentionDays: (v) => {
    if (v === undefined) return good(null);
    const r = checkRetentionDays(v);
    return r.ok ? good(v) : bad(r.message);
  },
  council: (v, c) => {
    if (v === undefined || v === null) return good(null);
    const prompts = c.raw.prompts;
    const r = checkRules({ ...(v as object), ...(prompts !== undefined ? { prompts } : {}) });
    return r.ok ? good(r.rules) : bad(`council: ${r.message}`);
  },
  prompts: (v, c) => (v === undefined || c.checked.council !== null ? good(undefined) : bad('prompts: reflection prompts belong to a council (add "council": {})')),
  policies: (v, c) => {
    if (v === undefined) return good([]);
    if (!Array.isArray(v) || v.length > 10) return bad('policies: a list of at most 10 policies');
    const council = c.checked.council as CouncilRules | null;
    if (v.length > 0 && !council) return bad('policies: a template that proposes policies needs a council (add "council": {})');
    const out: PolicySpec[] = [];
    for (const [i, p] of v.entries()) {
      const r = checkPolicy(p, (c.checked.groups as string[]) ?? [], council?.prompts.length ?? 0);
      if (!r.ok) return bad(`policies[${i}]: ${r.problem.message}`, r.problem.code);
      out.push(r.spec);
    }
    return good(out);
  },
};

/** The table with more fields (a feature's own; existing names are not replaced). */
export function extendTemplateFields(extra: Readonly<Record<string, FieldChecker>>, base: Readonly<Record<string, FieldChecker>> = TEMPLATE_FIELDS): Readonly<Record<string, FieldChecker>> {
  for (const k of Object.keys(extra)) if (k in base) throw new RangeError(`template field ${k} already exists`);
  return { ...base, ...extra };
}

/** Checks a template written as JSON against a field table (default: {@link TEMPLATE_FIELDS}). Pure. */
export function checkTemplate(json: unknown, fields: Readonly<Record<string, FieldChecker>> = TEMPLATE_FIELDS): { ok: true; template: SpaceTemplate } | { ok: false; problem: TemplateProblem } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad('a template is a JSON object');
  const raw = json as Record<string, unknown>;
  for (const k of Object.keys(raw)) if (!(k in fields)) return bad(`${k}: not a template field (fields: ${Object.keys(fields).join(', ')})`);
  const checked: Record<string, unknown> = {};
  for (const [k, check] of Object.entries(fields)) {
    const r = check(raw[k], { raw, checked });
    if (!r.ok) return r;
    checked[k] = r.value;
  }
  delete checked.prompts;
  return { ok: true, template: checked as unknown as SpaceTemplate };
}
