/** Reads from the dashboard's JSON API (the same origin), throwing its error message. */
export async function get<T>(path: string): Promise<T> {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await r.json()) as T & { error?: string };
  if (!r.ok) throw new Error(body.error ?? `${path}: HTTP ${r.status}`);
  return body;
}

/** An action (only when jitd allows them): the same RPC op the CLI would call. */
export async function act<T>(path: string): Promise<T> {
  const r = await fetch(path, { method: 'POST', headers: { 'x-jit-action': '1' } });
  const body = (await r.json()) as T & { error?: string };
  if (!r.ok) throw new Error(body.error ?? `${path}: HTTP ${r.status}`);
  return body;
}
