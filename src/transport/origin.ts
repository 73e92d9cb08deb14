/**
 * The Origin check of the browser-facing streams (the WebSocket upgrade and the SSE event
 * stream): a request without `Origin` (not a browser, or a same-origin GET) is allowed, and
 * so is the server's own origin or one on the allowlist (exact matches).
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return origin === undefined || allowed.has(origin) || sameOrigin(origin, host);
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  // Stryker disable next-line ConditionalExpression: without it host.toLowerCase() throws a TypeError inside the try below, whose catch answers false as well
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    // Not a URL (e.g. the literal 'null' of a sandboxed page): not our origin.
    return false;
  }
}
