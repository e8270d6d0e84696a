// Shared helpers for lobbywatch's pages: JSON fetches and a live socket that reconnects.

/** GET a JSON document; throws with the problem's detail on error. */
export async function getJson(path, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const response = await fetch(path, { headers, cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.detail || `${response.status} ${response.statusText}`);
    error.status = response.status;
    // The problem's code and params, for a page to say it in its language.
    error.code = body.code;
    error.params = body.params;
    throw error;
  }
  return body;
}

/**
 * Opens a WebSocket to `path` and calls `onDocument` with each status document. Reconnects with
 * backoff after a drop and reports the connection state through `onState("open" | "lost")`;
 * with "lost" comes `{ code, reason }` from the server's close frame (the service says why it
 * closed: 1013 too many connections, 4401 token revoked, 4408 not reading, 1001 shutting down;
 * an empty reason when the network dropped). Returns a function that closes it for good.
 */
export function live(path, onDocument, onState = () => {}) {
  let socket = null;
  let closed = false;
  let delay = 500;
  const url = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
  const connect = () => {
    // Closed for good from inside onState (a page that learnt its socket will never work).
    if (closed) return;
    socket = new WebSocket(url());
    socket.onopen = () => {
      delay = 500;
      onState("open");
    };
    socket.onmessage = (message) => {
      try {
        onDocument(JSON.parse(message.data));
      } catch (e) {
        console.warn("unreadable live document", e);
      }
    };
    socket.onclose = (event) => {
      if (closed) return;
      onState("lost", { code: event.code, reason: event.reason || "" });
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  connect();
  return () => {
    closed = true;
    if (socket) socket.close();
  };
}

/** A fresh Idempotency-Key. `crypto.randomUUID` needs a secure context, which a front-desk PC on
 * plain http inside the office network is not; `getRandomValues` works everywhere. */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * POSTs one event with its Idempotency-Key. Resolves to `{ status, body, replayed }` for any HTTP
 * answer (the caller decides what a 4xx means); rejects only when the service could not be
 * reached at all (network down, service stopped).
 */
export async function postEvent(station, token, key, event) {
  const response = await fetch(`/api/v1/stations/${encodeURIComponent(station)}/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Idempotency-Key": key, "Content-Type": "application/json" },
    body: JSON.stringify(event),
    cache: "no-store",
  });
  const body = await response.json().catch(() => ({}));
  return { status: response.status, body, replayed: response.headers.get("Idempotent-Replayed") === "true" };
}

/**
 * The signed-in device token of one page, kept in sessionStorage: it survives a reload of the
 * tab but not closing it, and it is never put in the page's URL.
 */
export function session(name) {
  const slot = `lobbywatch.token.${name}`;
  return {
    get: () => sessionStorage.getItem(slot),
    set: (token) => sessionStorage.setItem(slot, token),
    clear: () => sessionStorage.removeItem(slot),
  };
}

/** The live URL of a token-protected socket (browsers cannot set headers on a WebSocket, so the
 * token travels as `access_token`, which the service never logs). */
export function withToken(path, token) {
  return `${path}${path.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(token)}`;
}
