// The proof of work a public booking carries: find a decimal nonce such that
// SHA-256(challenge + ":" + nonce) starts with `difficulty` zero bits. A person's browser does it
// once in a second or two; a bot that wants every slot of the day pays it for each one.
//
// Hashing is in batches with crypto.subtle (in parallel within a batch), and the loop yields to
// the browser between batches, so the page stays responsive and the progress can be drawn.

const BATCH = 512;
const encoder = new TextEncoder();

/** How many leading zero bits `bytes` (a Uint8Array) starts with. */
export function leadingZeroBits(bytes) {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) { bits += 8; continue; }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

async function digest(text) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Whether this browser can do the work at all: crypto.subtle exists only on https (or localhost). */
export function canSolve() {
  return Boolean(globalThis.crypto?.subtle);
}

/**
 * The nonce (a decimal string) for `challenge` at `difficulty` bits. `onProgress(fraction)` is
 * told how far along the expected work is (0–1; it may need more: the expectation is 2^difficulty
 * tries). `isCancelled()` stops the search (it then returns null).
 */
export async function solve(challenge, difficulty, onProgress = () => {}, isCancelled = () => false) {
  const expected = 2 ** difficulty;
  for (let start = 0; ; start += BATCH) {
    if (isCancelled()) return null;
    const nonces = Array.from({ length: BATCH }, (_, i) => start + i);
    const hashes = await Promise.all(nonces.map((n) => digest(`${challenge}:${n}`)));
    const found = hashes.findIndex((hash) => leadingZeroBits(hash) >= difficulty);
    if (found >= 0) {
      onProgress(1);
      return String(nonces[found]);
    }
    onProgress(Math.min(0.99, (start + BATCH) / expected));
    // Let the page draw and answer clicks between batches.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
