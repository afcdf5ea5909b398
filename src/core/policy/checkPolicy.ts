/**
 * Checking a policy when it is proposed (SPEC Q3–Q4): its JSON shape, its expression — parsed and
 * type-checked by CEL (@marcbachmann/cel-js) against the declared schema of the released pulse
 * (policyInput.ts) — and its action against the closed vocabulary and bounds (actions.ts). Every
 * refusal is a coded problem naming what is wrong and, for the expression, where (0-based
 * character offsets). Compiled expressions are kept for the machine to evaluate on its ticks.
 *
 * Refused: an expression over 2 KB ({@link MAX_EXPRESSION_BYTES}), more than
 * {@link MAX_AST_NODES} AST nodes or {@link MAX_DEPTH} nesting, an unknown field or variable, a
 * type error, a result other than bool, and any use of `matches` (regular expressions run on JS
 * RegExp, which can backtrack without bound; the engine cannot switch them off, so the AST is
 * walked and any call named `matches` refused).
 */
import { Environment } from '@marcbachmann/cel-js';
import type { ErrorCode } from '../errors.ts';
import { type PolicyAction, checkAction } from './actions.ts';
import { BRIDGING_SCHEMA, GROUP_SCHEMA, HISTORY_SCHEMA, type PolicyInput, PULSE_SCHEMA } from './policyInput.ts';

/** Largest expression, UTF-8 bytes. */
export const MAX_EXPRESSION_BYTES = 2048;
/** Most AST nodes in an expression. */
export const MAX_AST_NODES = 200;
/** Deepest nesting of an expression. */
export const MAX_DEPTH = 24;
/** Longest policy name and reason, characters. */
export const MAX_NAME_CHARS = 80;
export const MAX_REASON_CHARS = 200;
/** Cooldown bounds, seconds. */
export const COOLDOWN_BOUNDS = [0, 86_400] as const;
/** Default cooldown, seconds. */
export const DEFAULT_COOLDOWN_SECONDS = 300;

/** A policy as written (a file, the API, the council page, a template). */
export interface PolicyJson {
  readonly name: string;
  readonly when: string;
  readonly then: unknown;
  readonly cooldownSeconds?: number;
  /** Why, in plain words: shown to participants when the policy acts. */
  readonly reason?: string;
}

/** A checked policy (normalised). */
export interface PolicySpec {
  readonly name: string;
  readonly when: string;
  readonly then: PolicyAction;
  readonly cooldownSeconds: number;
  readonly reason: string;
}

/** Why a policy was refused. */
export interface PolicyProblem {
  readonly code: ErrorCode;
  readonly message: string;
  /** For expression problems: the offending range in `when` (0-based, end exclusive). */
  readonly position?: { readonly start: number; readonly end: number };
}

/** A compiled expression: evaluates to a boolean over a policy input. */
export type CompiledWhen = (input: PolicyInput) => boolean;

const environments = new Map<string, Environment>();

/**
 * The environment expressions run in once checked: the same variables, undeclared types (`dyn`).
 * The typed environment converts every context object into its schema's typed maps on each
 * evaluation, which costs about as much as the evaluation itself; a checked expression can only
 * read declared fields of doubles, bools and lists of doubles, so it gives the same result here
 * (checkPolicy.test.ts checks both on random inputs) at about half the cost (bench:policy).
 */
let runEnvironment: Environment | null = null;
function runEnv(): Environment {
  if (!runEnvironment) {
    runEnvironment = new Environment({ limits: { maxAstNodes: MAX_AST_NODES, maxDepth: MAX_DEPTH, maxListElements: 32, maxMapEntries: 32, maxCallArguments: 8 } });
    for (const name of ['pulse', 'history', 'groups', 'bridging']) runEnvironment.registerVariable(name, 'dyn');
  }
  return runEnvironment;
}

/** Evaluates a checked expression in the typed environment (tests compare it with the fast path). */
export function runTyped(when: string, groupNames: readonly string[], input: PolicyInput): unknown {
  return (policyEnvironment(groupNames).parse(when) as unknown as (ctx: PolicyInput) => unknown)(input);
}

/** The CEL environment of a space with these declared groups (cached; groups are typed by name). */
export function policyEnvironment(groupNames: readonly string[]): Environment {
  const key = JSON.stringify(groupNames);
  let env = environments.get(key);
  if (!env) {
    env = new Environment({ limits: { maxAstNodes: MAX_AST_NODES, maxDepth: MAX_DEPTH, maxListElements: 32, maxMapEntries: 32, maxCallArguments: 8 } });
    env.registerVariable({ name: 'pulse', schema: PULSE_SCHEMA as unknown as Record<string, unknown> } as never);
    env.registerVariable({ name: 'history', schema: HISTORY_SCHEMA as unknown as Record<string, unknown> } as never);
    const groups: Record<string, unknown> = {};
    for (const g of groupNames) groups[g] = GROUP_SCHEMA;
    // A space without groups still declares `groups` (empty), so `groups["x"]` is an unknown field.
    env.registerVariable({ name: 'groups', schema: groups } as never);
    env.registerVariable({ name: 'bridging', schema: BRIDGING_SCHEMA as unknown as Record<string, unknown> } as never);
    if (environments.size > 256) environments.clear();
    environments.set(key, env);
  }
  return env;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

interface CelErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly summary?: string;
  readonly message?: string;
  readonly range?: { readonly start: number; readonly end: number };
}

function problemOf(e: CelErrorLike, fallback: ErrorCode): PolicyProblem {
  const summary = e.summary ?? e.message ?? 'invalid expression';
  const code: ErrorCode = e.code === 'limit_exceeded' ? 'POLICY_TOO_COMPLEX' : /^(No such key|Unknown variable)/.test(summary) ? 'POLICY_UNKNOWN_FIELD' : fallback;
  const where = e.range ? ` (at character ${e.range.start + 1})` : '';
  return { code, message: `when: ${summary}${where}`, ...(e.range ? { position: { start: e.range.start, end: e.range.end } } : {}) };
}

interface AstLike {
  readonly op: string;
  readonly args: unknown;
  readonly start: number;
  readonly end: number;
}

/** The first call to `matches` in an AST, if any (regular expressions are refused). */
function findRegex(node: unknown): AstLike | null {
  if (Array.isArray(node)) {
    for (const x of node) {
      const f = findRegex(x);
      if (f) return f;
    }
    return null;
  }
  if (!isObj(node) || typeof node.op !== 'string') return null;
  const n = node as unknown as AstLike;
  if ((n.op === 'call' || n.op === 'rcall') && Array.isArray(n.args) && n.args[0] === 'matches') return n;
  return findRegex(n.args);
}

/** Checks and compiles an expression for a space with these groups. */
export function compileWhen(when: unknown, groupNames: readonly string[]): { ok: true; run: CompiledWhen } | { ok: false; problem: PolicyProblem } {
  if (typeof when !== 'string' || when.trim().length === 0) return { ok: false, problem: { code: 'POLICY_SYNTAX', message: 'when must be a non-empty CEL expression' } };
  const bytes = new TextEncoder().encode(when).length;
  if (bytes > MAX_EXPRESSION_BYTES) return { ok: false, problem: { code: 'POLICY_TOO_LARGE', message: `when is ${bytes} bytes; at most ${MAX_EXPRESSION_BYTES} are allowed` } };
  const env = policyEnvironment(groupNames);
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(when);
  } catch (e) {
    return { ok: false, problem: problemOf(e as CelErrorLike, 'POLICY_SYNTAX') };
  }
  const regex = findRegex(parsed.ast);
  if (regex) return { ok: false, problem: { code: 'POLICY_REGEX', message: `when: regular expressions (matches) are not allowed in policies (at character ${regex.start + 1})`, position: { start: regex.start, end: regex.end } } };
  const checked = env.check(when);
  if (!checked.valid) return { ok: false, problem: problemOf((checked.error ?? {}) as CelErrorLike, 'POLICY_TYPE') };
  if (checked.type !== 'bool') return { ok: false, problem: { code: 'POLICY_NOT_BOOL', message: `when must be true or false (a bool), but this expression gives ${checked.type}`, position: { start: 0, end: when.length } } };
  const fn = runEnv().parse(when) as unknown as (ctx: PolicyInput) => unknown;
  return { ok: true, run: (input) => fn(input) === true };
}

/**
 * Checks a policy written as JSON: shape, expression and action. `prompts` is the number of
 * reflection prompts the council approved. Pure.
 */
export function checkPolicy(json: unknown, groupNames: readonly string[], prompts: number): { ok: true; spec: PolicySpec; run: CompiledWhen } | { ok: false; problem: PolicyProblem } {
  const no = (message: string, code: ErrorCode = 'POLICY_INVALID') => ({ ok: false as const, problem: { code, message } });
  if (!isObj(json)) return no('a policy is a JSON object: {"name", "when", "then", "cooldownSeconds"?, "reason"?}');
  for (const k of Object.keys(json)) if (!['name', 'when', 'then', 'cooldownSeconds', 'reason'].includes(k)) return no(`${k} is not a field of a policy (fields: name, when, then, cooldownSeconds, reason)`);
  const name = typeof json.name === 'string' ? json.name.trim() : '';
  if (name.length === 0 || [...name].length > MAX_NAME_CHARS || /[\p{Cc}]/u.test(name)) return no(`name must be 1–${MAX_NAME_CHARS} characters of text`);
  const reason = json.reason === undefined ? `${name}: when ${String(json.when ?? '')}`.slice(0, MAX_REASON_CHARS) : typeof json.reason === 'string' ? json.reason.trim() : '';
  if (reason.length === 0 || [...reason].length > MAX_REASON_CHARS || /[\p{Cc}]/u.test(reason)) return no(`reason must be 1–${MAX_REASON_CHARS} characters of text`);
  const cooldownSeconds = json.cooldownSeconds ?? DEFAULT_COOLDOWN_SECONDS;
  if (typeof cooldownSeconds !== 'number' || !Number.isInteger(cooldownSeconds) || cooldownSeconds < COOLDOWN_BOUNDS[0] || cooldownSeconds > COOLDOWN_BOUNDS[1]) return no('cooldownSeconds must be an integer in [0, 86400]', 'POLICY_BOUNDS');
  const action = checkAction(json.then, prompts);
  if (!action.ok) return no(action.message, 'POLICY_BOUNDS');
  const when = compileWhen(json.when, groupNames);
  if (!when.ok) return when;
  // biome-ignore lint/suspicious/noThenProperty: `then` is the policy format's action field (SPEC Q3); a non-function `then` is never awaited as a thenable.
  const spec: PolicySpec = { name, when: json.when as string, then: action.action, cooldownSeconds, reason };
  return { ok: true, spec, run: when.run };
}
