// What a visitor can do from their ticket's page, each posted once with its own Idempotency-Key
// to POST /api/v1/tickets/{code}/events. The socket brings the ticket's new view; this only says
// how the request went.
import { newKey } from "/assets/common.js";

/**
 * Posts `{ kind, entrance? }` for the ticket `code`. Resolves to `{ ok, status, body }` for any
 * HTTP answer; `{ ok: false, status: 0 }` when the service could not be reached.
 */
export async function act(code, kind, entrance) {
  const body = entrance == null ? { kind } : { kind, entrance };
  try {
    const response = await fetch(`/api/v1/tickets/${encodeURIComponent(code)}/events`, {
      method: "POST",
      headers: { "Idempotency-Key": newKey(), "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    return { ok: response.ok, status: response.status, body: await response.json().catch(() => ({})) };
  } catch {
    return { ok: false, status: 0, body: {} };
  }
}
