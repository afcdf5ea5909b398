/** Preact with htm: components without a JSX build step. */
export { html, render } from 'htm/preact';

/** Fetches JSON from the API; throws an Error with the server's message on failure. */
export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(path, init);
  const j = (await r.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!r.ok) throw Object.assign(new Error(j.error?.message ?? `HTTP ${r.status}`), { code: j.error?.code ?? 'HTTP' });
  return j as T;
}
