/**
 * Vitest global setup: prints one line when shared test material is missing (the tests that need
 * it skip), and fails the run when `ATTUNE_REQUIRE_SHARED` is set (CI). See ./shared.ts.
 */
import { missingLine, missingShared } from './shared.ts';

/** Runs once before all test files. */
export default function setup(): void {
  const missing = missingShared();
  if (missing.length === 0) return;
  if (process.env.ATTUNE_REQUIRE_SHARED) throw new Error(missingLine(missing));
  process.stdout.write(`${missingLine(missing)}\n`);
}
