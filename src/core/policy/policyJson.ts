/**
 * Builds a policy as written (SPEC Q3) from its parts. The format's action field is named
 * `then`, which linters flag as a possible thenable; a policy's `then` is never a function, so
 * no `await` ever treats it as a promise. Tests, templates and tools build policies here.
 */
import type { PolicyJson } from './checkPolicy.ts';

/** A policy JSON object: `{name, when, then, cooldownSeconds?, reason?}`. */
export function policyJson(p: { readonly name: string; readonly when: string; readonly action: unknown; readonly cooldownSeconds?: number; readonly reason?: string }): PolicyJson {
  const { action, ...rest } = p;
  // biome-ignore lint/suspicious/noThenProperty: the policy format's action field (see the header).
  return { ...rest, then: action };
}
