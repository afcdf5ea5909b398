/**
 * Which sites may frame a space's display (`<iframe src="…/d/CODE">` on a venue's page): a
 * per-space allow-list of origins, sent as the display page's CSP `frame-ancestors` (CSP Level
 * 2 §7.7; it supersedes X-Frame-Options). An empty list keeps the default: any site may frame a
 * display (it shows only what any display shows). Kept through the Storage port by
 * FeedSettings (SPEC S13); this book is the in-memory view the CSP middleware reads.
 */
import { normaliseCode } from '../core/protocol.ts';

/** Most origins per space. */
export const MAX_FRAME_ANCESTORS = 16;

/** An origin safe to put in a CSP source list: scheme, host and optional port, nothing else. */
const ORIGIN = /^https?:\/\/(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/** Checks a list of origins; returns a message for the first bad one. */
export function checkOrigins(origins: readonly string[]): string | null {
  if (origins.length > MAX_FRAME_ANCESTORS) return `at most ${MAX_FRAME_ANCESTORS} origins`;
  for (const o of origins) if (!ORIGIN.test(o)) return `'${o.slice(0, 80)}' is not an origin like https://venue.example`;
  return null;
}

/** The allow-lists of every space, by join code. */
export class EmbedBook {
  private readonly byCode = new Map<string, readonly string[]>();

  /** The space's origins (empty: any site). */
  origins(code: string): readonly string[] {
    return this.byCode.get(normaliseCode(code)) ?? [];
  }

  /** Replaces the space's origins (checked first with {@link checkOrigins}). */
  set(code: string, origins: readonly string[]): void {
    const key = normaliseCode(code);
    if (origins.length === 0) this.byCode.delete(key);
    else this.byCode.set(key, [...new Set(origins)]);
  }

  /** The `frame-ancestors` list for a request path, when it is a display with an allow-list. */
  frameAncestorsOf(path: string): readonly string[] | undefined {
    const m = /^\/d\/([^/]+)\/?$/.exec(path);
    if (!m?.[1]) return undefined;
    const list = this.byCode.get(normaliseCode(decodeURIComponent(m[1])));
    return list && list.length > 0 ? list : undefined;
  }
}
