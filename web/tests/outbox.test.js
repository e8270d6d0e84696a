// Unit tests of web/outbox.js, the terminal's offline outbox, with an in-memory storage and a
// fake service. tests/api/browser.rs opens outbox.test.html in headless Chromium (served only by
// `--web-dir`, never embedded) and reads the results from the page: each test is an
// `li[data-test]` with `data-result` "pass" or "fail", and `#summary` says when all have run.
import { Outbox, Sender, isMine, retryable } from "/assets/outbox.js";
import { assertEqual, runAll, test } from "/tests/runner.js";

/** A Storage-like object kept in memory; `refuse` makes setItem throw like a full localStorage. */
function memoryStorage() {
  const items = new Map();
  return {
    refuse: false,
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem(k, v) {
      if (this.refuse) throw new Error("QuotaExceededError");
      items.set(k, String(v));
    },
  };
}

let counter = 0;
const newOutbox = (storage) => new Outbox({ storage, slot: "lobbywatch.outbox.test", newKey: () => `key-${++counter}` });

/**
 * A fake service: each call takes the next scripted answer — a status, or "down" for a network
 * error — and is recorded with the key and event it carried.
 */
function fakeService(...script) {
  const calls = [];
  const post = async (token, entry) => {
    calls.push({ token, key: entry.key, kind: entry.event.kind, device: entry.device });
    const next = script.length ? script.shift() : 201;
    if (next === "down") throw new TypeError("Failed to fetch");
    if (next === "in-flight") return { status: 409, body: { type: "/problems/request-in-flight" } };
    return { status: next, body: next < 300 ? { ticket: `P00${calls.length}` } : { detail: "refused" }, replayed: false };
  };
  return { calls, post };
}

function newSender(outbox, service, extra = {}) {
  const answers = [];
  const refused = [];
  const sender = new Sender({
    outbox,
    credentials: () => ({ token: "desk-1-token", device: "desk-1" }),
    post: service.post,
    onAnswer: (entry, answer) => answers.push({ key: entry.key, status: answer.status }),
    onTokenRefused: (answer) => refused.push(answer.status),
    ...extra,
  });
  return { sender, answers, refused };
}

test("queued events survive a reload of the page (same storage)", async () => {
  const storage = memoryStorage();
  const before = newOutbox(storage);
  const queued = ["check_in", "call", "check_out"].map((kind) => before.add({ kind }, "desk-1"));
  const reloaded = newOutbox(storage);
  assertEqual(reloaded.read().map((e) => [e.key, e.event.kind]), queued.map((e) => [e.key, e.event.kind]), "entries after reload");
});

test("each event is sent once, in order, with the key it was queued with", async () => {
  const outbox = newOutbox(memoryStorage());
  const queued = ["check_in", "check_in", "call"].map((kind) => outbox.add({ kind }, "desk-1"));
  const service = fakeService(201, 201, 201);
  const { sender, answers } = newSender(outbox, service);
  await sender.sendSoon();
  assertEqual(service.calls.map((c) => c.key), queued.map((e) => e.key), "keys sent");
  assertEqual(service.calls.map((c) => c.kind), ["check_in", "check_in", "call"], "order");
  assertEqual(answers.map((a) => a.status), [201, 201, 201], "answers");
  assertEqual(outbox.read(), [], "outbox after sending");
  await sender.sendSoon();
  assertEqual(service.calls.length, 3, "calls after a second run");
});

test("a network error keeps the event, stops the line, and the retry reuses its key", async () => {
  const outbox = newOutbox(memoryStorage());
  const [first, second] = ["check_in", "check_out"].map((kind) => outbox.add({ kind }, "desk-1"));
  const service = fakeService("down", 201, 201);
  const { sender, answers } = newSender(outbox, service);
  await sender.sendSoon();
  const trouble = sender.trouble;
  sender.stop(); // the test retries by hand rather than on the backoff timer
  assertEqual(trouble, "down", "trouble after a network error");
  assertEqual(service.calls.map((c) => c.key), [first.key], "only the first was tried");
  assertEqual(outbox.read().map((e) => e.key), [first.key, second.key], "both still queued");
  assertEqual(answers, [], "no answer recorded");
  await sender.retryNow();
  assertEqual(service.calls.map((c) => c.key), [first.key, first.key, second.key], "retry with the same key, then the next");
  assertEqual(outbox.read(), [], "outbox after the retry");
});

test("the sender backs off after a network error and says the service is down", async () => {
  const outbox = newOutbox(memoryStorage());
  outbox.add({ kind: "check_in" }, "desk-1");
  const { sender } = newSender(outbox, fakeService("down"));
  await sender.sendSoon();
  const scheduled = sender.timer !== null;
  sender.stop();
  assertEqual([scheduled, sender.delay], [true, 2000], "retry timer and doubled delay");
});

test("a definite 4xx refusal removes the event and the next one follows", async () => {
  const outbox = newOutbox(memoryStorage());
  const [refusedEntry, next] = ["check_out", "call"].map((kind) => outbox.add({ kind }, "desk-1"));
  const service = fakeService(422, 201);
  const { sender, answers } = newSender(outbox, service);
  await sender.sendSoon();
  assertEqual(answers, [{ key: refusedEntry.key, status: 422 }, { key: next.key, status: 201 }], "answers");
  assertEqual(outbox.read(), [], "outbox");
});

test("a 5xx or a request still in flight keeps the event for a retry with the same key", async () => {
  for (const answer of [503, "in-flight", 429]) {
    const outbox = newOutbox(memoryStorage());
    const entry = outbox.add({ kind: "check_in" }, "desk-1");
    const service = fakeService(answer, 201);
    const { sender, answers } = newSender(outbox, service);
    await sender.sendSoon();
    const trouble = sender.trouble;
    sender.stop();
    assertEqual([outbox.read().length, trouble, answers.length], [1, "busy", 0], `after ${answer}`);
    await sender.retryNow();
    assertEqual(service.calls.map((c) => c.key), [entry.key, entry.key], `keys after ${answer}`);
  }
});

test("a refused token keeps the event and sends nothing more", async () => {
  const outbox = newOutbox(memoryStorage());
  ["check_in", "call"].forEach((kind) => outbox.add({ kind }, "desk-1"));
  const service = fakeService(401);
  const { sender, refused } = newSender(outbox, service);
  await sender.sendSoon();
  assertEqual([service.calls.length, refused, outbox.read().length, sender.timer], [1, [401], 2, null], "after 401");
});

test("another device's events are held, never sent with this device's token", async () => {
  const outbox = newOutbox(memoryStorage());
  const theirs = outbox.add({ kind: "check_in" }, "desk-2");
  const mine = outbox.add({ kind: "call" }, "desk-1");
  const service = fakeService(201);
  const { sender } = newSender(outbox, service);
  await sender.sendSoon();
  assertEqual(service.calls.map((c) => c.key), [mine.key], "sent");
  assertEqual(outbox.read().map((e) => e.key), [theirs.key], "kept");
  assertEqual([...outbox.heldGroups("desk-1").keys()], ["desk-2"], "held for");
  assertEqual([isMine(theirs, "desk-1"), isMine(mine, "desk-1"), isMine(mine, null)], [false, true, false], "isMine");
});

test("an unstamped event is stamped with this device before it is sent", async () => {
  const storage = memoryStorage();
  const outbox = newOutbox(storage);
  outbox.add({ kind: "check_in" }, null);
  const service = fakeService("down");
  const { sender } = newSender(outbox, service);
  await sender.sendSoon();
  sender.stop();
  assertEqual([service.calls[0].device, outbox.read()[0].device], ["desk-1", "desk-1"], "device");
});

test("nothing is sent while this device is not known or signed out", async () => {
  const outbox = newOutbox(memoryStorage());
  outbox.add({ kind: "check_in" }, "desk-1");
  for (const credentials of [{ token: "t", device: null }, { token: null, device: "desk-1" }]) {
    const service = fakeService(201);
    const { sender } = newSender(outbox, service, { credentials: () => credentials });
    await sender.sendSoon();
    assertEqual([service.calls.length, outbox.read().length], [0, 1], JSON.stringify(credentials));
  }
});

test("an event the storage refuses is not queued", async () => {
  const storage = memoryStorage();
  const outbox = newOutbox(storage);
  storage.refuse = true;
  let threw = false;
  try {
    outbox.add({ kind: "check_in" }, "desk-1");
  } catch {
    threw = true;
  }
  storage.refuse = false;
  assertEqual([threw, outbox.read().length], [true, 0], "refused write");
});

test("which answers are worth a retry", async () => {
  const verdicts = [201, 200, 400, 404, 409, 422, 408, 425, 429, 500, 503].map((status) => retryable({ status, body: {} }));
  assertEqual(verdicts, [false, false, false, false, false, false, true, true, true, true, true], "retryable");
});

runAll();
