/**
 * The shipped space templates (`templates/*.json`, SPEC Q14) and a template named on the command
 * line: a shipped one by name, or the user's own file. Each is checked by the same validator as
 * the API (src/core/templates/spaceTemplate.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSpaceTemplate, type FullSpaceTemplate } from '../core/templates/spaceTemplateFields.ts';

/** Where the shipped templates live. */
export const TEMPLATES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

/** Every shipped template, checked, by name (a broken one throws: it is our bug). */
export function shippedTemplates(dir = TEMPLATES_DIR): { readonly name: string; readonly json: unknown; readonly template: FullSpaceTemplate }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const json = JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown;
      const r = checkSpaceTemplate(json);
      if (!r.ok) throw new Error(`templates/${f}: ${r.problem.code}: ${r.problem.message}`);
      return { name: r.template.name, json, template: r.template };
    });
}

/** A template by name (shipped) or path (a file), as JSON; null when neither exists. */
export function readTemplate(nameOrPath: string, cwd: string): unknown {
  const shipped = shippedTemplates().find((t) => t.name === nameOrPath);
  if (shipped) return shipped.json;
  const path = resolve(cwd, nameOrPath);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}
