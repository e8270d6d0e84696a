// Shared helpers for lobbywatch's pages: JSON fetches and a live socket that reconnects.

/** GET a JSON document; throws with the problem's detail on error. */
export async function getJson(path, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const response = await fetch(path, { headers, cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.detail || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

/**
 * Opens a WebSocket to `path` and calls `onDocument` with each status document. Reconnects with
 * backoff after a drop and reports the connection state through `onState("open" | "lost")`.
 * Returns a function that closes it for good.
 */
export function live(path, onDocument, onState = () => {}) {
  let socket = null;
  let closed = false;
  let delay = 500;
  const url = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
  const connect = () => {
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
    socket.onclose = () => {
      if (closed) return;
      onState("lost");
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

/** Escapes text for insertion as HTML. */
export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
