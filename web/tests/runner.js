// The pages' unit-test runner: `test(name, body)` registers a test, `assertEqual` compares as
// JSON, and `runAll()` runs them in order, one <li> per test in #results, the counts on #summary
// (data-passed, data-failed) and data-done on <body> — what tests/api/browser reads.

const tests = [];

/** Registers a test; `body` may be async and fails by throwing. */
export function test(name, body) {
  tests.push({ name, body });
}

/** Throws, naming `what`, unless `actual` and `expected` are equal as JSON. */
export function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/** Runs every registered test in order and writes the results into the page. */
export async function runAll() {
  const list = document.getElementById("results");
  let failed = 0;
  for (const { name, body } of tests) {
    const li = document.createElement("li");
    li.dataset.test = name;
    try {
      await body();
      li.dataset.result = "pass";
      li.textContent = `✓ ${name}`;
    } catch (e) {
      failed += 1;
      li.dataset.result = "fail";
      li.textContent = `✗ ${name}: ${e.message}`;
    }
    list.append(li);
  }
  const summary = document.getElementById("summary");
  summary.dataset.passed = String(tests.length - failed);
  summary.dataset.failed = String(failed);
  summary.textContent = `${tests.length - failed} passed, ${failed} failed`;
  document.body.dataset.done = "true";
}
