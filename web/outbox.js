// The front desk's offline outbox: every action is stored (with its own Idempotency-Key) BEFORE
// anything is sent, and one sender sends the stored actions strictly in order. A retry reuses the
// entry's key, so the service applies each action exactly once however many times it is sent; an
// entry leaves the outbox only after a definite answer (applied, or refused for good). The
// terminal page uses it; web/tests/outbox.test.js tests it with an in-memory storage and a fake
// service. Nothing here touches the page: storage, the network and the clock come in as arguments.

/**
 * May the device `device` send `entry`? The service remembers Idempotency-Keys per device, so an
 * entry must only ever travel with the token of the device that queued it: sent with another
 * device's token, a retry would be a new event and could apply the action twice. An entry without
 * a device comes from before entries were stamped (or was queued while the device was not known
 * yet) and is adopted — stamped — by the sender the first time it sends it.
 */
export function isMine(entry, device) {
  return Boolean(device) && (!entry.device || entry.device === device);
}

/** 5xx, timeouts, rate limits and "same key still in flight" are answers that a later retry of
 * the same key can change; every other 4xx is final (the event was refused and never will be). */
export function retryable(answer) {
  const s = answer.status;
  if (s >= 200 && s < 300) return false;
  if (s === 408 || s === 425 || s === 429) return true;
  if (s === 409 && String(answer.body?.type || "").endsWith("request-in-flight")) return true;
  return !(s >= 400 && s < 500);
}

/** The stored list of one station's waiting actions, in `storage` (localStorage on the page; any
 * object with getItem/setItem in a test) under `slot`. */
export class Outbox {
  constructor({ storage, slot, newKey, now = () => new Date() }) {
    this.storage = storage;
    this.slot = slot;
    this.newKey = newKey;
    this.now = now;
  }

  /** The outbox as stored now. Always read fresh: another tab of this station may have changed it. */
  read() {
    let list;
    try {
      list = JSON.parse(this.storage.getItem(this.slot));
    } catch {
      return [];
    }
    return Array.isArray(list) ? list.filter((e) => e && typeof e.key === "string" && e.event) : [];
  }

  /** Replaces the stored list; throws when the storage refuses (full, or disabled). */
  write(list) {
    this.storage.setItem(this.slot, JSON.stringify(list));
  }

  /** Stores a new entry for `event` at the end, stamped with `device`, and returns it. Throws when
   * it could not be stored: then it must not be sent either. */
  add(event, device) {
    const entry = { key: this.newKey(), event, queuedAt: this.now().toISOString(), device };
    this.write([...this.read(), entry]);
    return entry;
  }

  remove(key) {
    this.write(this.read().filter((e) => e.key !== key));
  }

  /** The entries `device` may send, in order (see isMine). */
  mine(device) {
    return this.read().filter((e) => isMine(e, device));
  }

  /** Entries that wait for another device to sign in again, grouped by that device (in order).
   * Empty while this tab's own device is not known: nothing can be told apart then. */
  heldGroups(device, list = this.read()) {
    const groups = new Map();
    if (!device) return groups;
    for (const entry of list) {
      if (isMine(entry, device)) continue;
      const owner = entry.device || "";
      if (!groups.has(owner)) groups.set(owner, []);
      groups.get(owner).push(entry);
    }
    return groups;
  }
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 10000;

/**
 * Sends an outbox, one entry at a time, in order. `credentials()` gives the token and device of
 * this attempt (null token: signed out, stop); `post(token, entry)` sends one entry with its key and
 * resolves to `{ status, body, replayed }`, or rejects when the service could not be reached.
 * Hooks: `onAnswer(entry, answer)` after a definite answer (the entry is already removed),
 * `onTokenRefused(answer, token)` on 401/403 (the entry stays), `onChange(running)` when it starts
 * and stops.
 */
export class Sender {
  constructor({ outbox, credentials, post, onAnswer = () => {}, onTokenRefused = () => {},
    onChange = () => {}, timeoutMs = 15000, now = () => Date.now() }) {
    Object.assign(this, { outbox, credentials, post, onAnswer, onTokenRefused, onChange, timeoutMs, now });
    this.running = false;
    this.timer = null;
    this.delay = FIRST_DELAY_MS;
    this.retryAt = 0;
    /** null | "down" (unreachable) | "busy" (answered, but not definitely) */
    this.trouble = null;
  }

  /** Starts sending now unless it is already running; resolves when this run stops. */
  sendSoon() {
    if (this.running || !this.credentials().token) return Promise.resolve();
    clearTimeout(this.timer);
    this.timer = null;
    this.retryAt = 0;
    return this.run();
  }

  /** A reason to believe the service is back (online again, socket reconnected, a button): retry
   * now with the backoff reset. */
  retryNow() {
    this.delay = FIRST_DELAY_MS;
    return this.sendSoon();
  }

  /** Signed out: no more retries until sendSoon. */
  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.trouble = null;
  }

  async run() {
    this.running = true;
    this.onChange(true);
    try {
      while (await this.sendNext());
    } finally {
      this.running = false;
      this.onChange(false);
    }
  }

  /** Sends the first entry this device may send; true when the next one should follow now. */
  async sendNext() {
    // Token and device of this attempt: the answer belongs to them even if the clerk signs out
    // (or another device signs in) while the request is on its way.
    const { token, device } = this.credentials();
    if (!token || !device) return false; // device not known yet: the page wakes the sender
    // Strictly in order among this device's entries; other devices' entries are skipped, not
    // waited for (they may never be sent) — see isMine().
    let entry = this.outbox.mine(device)[0];
    if (!entry) {
      this.trouble = null;
      this.delay = FIRST_DELAY_MS;
      return false;
    }
    if (!entry.device) {
      // Bind the key to this device before it is ever sent with this device's token.
      entry = { ...entry, device };
      this.outbox.write(this.outbox.read().map((e) => (e.key === entry.key ? entry : e)));
    }
    let answer = null;
    try {
      answer = await withTimeout(this.post(token, entry), this.timeoutMs);
    } catch {
      answer = null; // unreachable, or no answer in time: the same key is safe to send again
    }
    if (answer && (answer.status === 401 || answer.status === 403)) {
      // The token was refused (revoked, rotated, moved to another station), not the action: it
      // may well succeed once the device signs in again, so it stays and nothing more is sent.
      this.trouble = null;
      this.onTokenRefused(answer, token);
      return false;
    }
    if (answer && !retryable(answer)) {
      // Decided: removed even if the clerk signed out meanwhile, the service has decided it.
      this.outbox.remove(entry.key);
      this.delay = FIRST_DELAY_MS;
      this.trouble = null;
      this.onAnswer(entry, answer);
      return true;
    }
    this.trouble = answer ? "busy" : "down";
    if (this.credentials().token) this.retryLater();
    return false;
  }

  retryLater() {
    this.retryAt = this.now() + this.delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sendSoon();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
  }
}
