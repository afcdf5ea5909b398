/**
 * The project's shared test material: conformance vectors and training data that live outside
 * the repository, in `shared/` beside it (`../shared` from the repository root), or wherever
 * `ATTUNE_SHARED_DIR` points. Tests read it in place; product code never does.
 *
 * On a clone without it, the tests that need it skip (the global setup prints one line saying
 * what is missing and how to get it) and everything else runs. `.ci/run` sets
 * `ATTUNE_REQUIRE_SHARED=1`, which turns a missing folder into a failure, so CI never skips.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (two folders above this file). */
const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** The folders tests need, relative to the shared root, and what each holds. */
export const SHARED_NEEDS = {
  merkle: { path: 'conformance/merkle', what: 'RFC 6962 Merkle proof vectors (transparency-dev/merkle testdata)' },
  signedNote: { path: 'conformance/signed-note', what: 'C2SP signed-note known answers (golang.org/x/mod, C2SP)' },
  emotionml: { path: 'conformance/emotionml', what: 'the W3C EmotionML 1.0 schema and vocabularies as shipped to the project' },
  emobank: { path: 'data/emobank', what: 'the EmoBank train/dev splits the text model is trained and checked on' },
} as const;

/** A key of {@link SHARED_NEEDS}. */
export type SharedNeed = keyof typeof SHARED_NEEDS;

/** The shared root: `ATTUNE_SHARED_DIR`, else `../shared` beside the repository. */
export function sharedRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.ATTUNE_SHARED_DIR !== undefined && env.ATTUNE_SHARED_DIR !== '' ? resolve(env.ATTUNE_SHARED_DIR) : join(REPO_ROOT, '..', 'shared');
}

/** Where one need lives (EmoBank also honours `ATTUNE_EMOBANK_DIR`, as `emobankDir()` does). */
export function sharedPath(need: SharedNeed, env: NodeJS.ProcessEnv = process.env): string {
  if (need === 'emobank' && env.ATTUNE_EMOBANK_DIR) return resolve(env.ATTUNE_EMOBANK_DIR);
  return join(sharedRoot(env), SHARED_NEEDS[need].path);
}

/** A need as a test file sees it. */
export interface SharedMaterial {
  /** Absolute path of the folder. */
  readonly dir: string;
  /** Whether it is there; tests that need it use `describe.skipIf(!m.present)`. */
  readonly present: boolean;
}

/** The one line that says what is missing and how to get it. */
export function missingLine(missing: readonly SharedNeed[], env: NodeJS.ProcessEnv = process.env): string {
  const list = missing.map((n) => sharedPath(n, env)).join(', ');
  const outcome = env.ATTUNE_REQUIRE_SHARED ? 'ATTUNE_REQUIRE_SHARED is set, so this fails the run' : 'the tests that need it are skipped';
  return (
    `attune: shared test material not found (${list}); ${outcome}. ` +
    "Put the project's shared/ folder beside the repository (or set ATTUNE_SHARED_DIR) — see README, \"Tests and ../shared\"."
  );
}

/**
 * Looks a need up. Throws instead of returning `present: false` when `ATTUNE_REQUIRE_SHARED` is
 * set (CI), so that a missing folder fails the run rather than skipping silently.
 */
export function sharedMaterial(need: SharedNeed, env: NodeJS.ProcessEnv = process.env): SharedMaterial {
  const dir = sharedPath(need, env);
  const present = existsSync(dir);
  if (!present && env.ATTUNE_REQUIRE_SHARED) throw new Error(missingLine([need], env));
  return { dir, present };
}

/** The needs that are missing. */
export function missingShared(env: NodeJS.ProcessEnv = process.env): SharedNeed[] {
  return (Object.keys(SHARED_NEEDS) as SharedNeed[]).filter((n) => !existsSync(sharedPath(n, env)));
}
