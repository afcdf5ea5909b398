/**
 * Every field a space template may have (SPEC Q14): the base table of `spaceTemplate.ts` and the
 * fields features add with `extendTemplateFields` — today the stories settings (ST1) that the
 * `reflective-gathering` template uses. Every caller that checks a template (the CLI, the host,
 * the shipped templates) checks it against this one table, so all agree on what is valid.
 */
import { storiesTemplateField } from '../stories/storiesTemplateField.ts';
import type { StorySettings } from '../stories/stories.ts';
import { checkTemplate, extendTemplateFields, type SpaceTemplate, type TemplateProblem } from './spaceTemplate.ts';

/** The full field table: the base fields plus the features'. */
export const SPACE_TEMPLATE_FIELDS = extendTemplateFields({ stories: storiesTemplateField });

/** A checked template with the features' fields typed. */
export interface FullSpaceTemplate extends SpaceTemplate {
  /** The stories settings to apply at creation (ST1), or null: stories stay off. */
  readonly stories: StorySettings | null;
}

/** Checks a template against {@link SPACE_TEMPLATE_FIELDS}. Pure. */
export function checkSpaceTemplate(json: unknown): { ok: true; template: FullSpaceTemplate } | { ok: false; problem: TemplateProblem } {
  const r = checkTemplate(json, SPACE_TEMPLATE_FIELDS);
  return r.ok ? { ok: true, template: r.template as FullSpaceTemplate } : r;
}
