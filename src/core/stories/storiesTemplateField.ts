/**
 * The `stories` field of a space template (SPEC Q14, ST1): a template — the shipped
 * `reflective-gathering` — may turn stories on at creation and choose pre- or post-moderation.
 * Added to the template table with `extendTemplateFields` (src/core/templates/spaceTemplateFields.ts),
 * so a template without it is unchanged and a typo inside it is refused naming the field.
 */
import type { FieldChecker } from '../templates/spaceTemplate.ts';
import type { StorySettings } from './stories.ts';

/** Checks `stories: {enabled?: bool (default true), moderation?: "pre"|"post" (default "pre")}`; absent → null (stories stay off). */
export const storiesTemplateField: FieldChecker = (v) => {
  const bad = (message: string) => ({ ok: false as const, problem: { code: 'TEMPLATE_INVALID' as const, message } });
  if (v === undefined || v === null) return { ok: true, value: null };
  if (typeof v !== 'object' || Array.isArray(v)) return bad('stories: an object {enabled, moderation}');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'enabled' && k !== 'moderation') return bad(`stories.${k}: not a stories setting (enabled, moderation)`);
  const enabled = o.enabled ?? true;
  if (typeof enabled !== 'boolean') return bad('stories.enabled: true or false');
  const moderation = o.moderation ?? 'pre';
  if (moderation !== 'pre' && moderation !== 'post') return bad('stories.moderation: "pre" (the steward approves each story) or "post" (shown at once, removable)');
  const settings: StorySettings = { enabled, moderation };
  return { ok: true, value: settings };
};
