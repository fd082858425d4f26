/**
 * Dawn's Node binding does not keep the event loop alive while GPU work is pending (an awaited pipeline compile
 * or buffer map can let `node script.js` exit mid-call). The device code (start, run, release) and the resident
 * calls hold this ref-counted timer until they settle. Harmless in browsers.
 */
let holders = 0;
let timer: ReturnType<typeof setInterval> | null = null;

export async function keepAlive<T>(body: () => Promise<T>): Promise<T> {
  if (holders++ === 0) timer = setInterval(() => undefined, 1000);
  try {
    return await body();
  } finally {
    if (--holders === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  }
}
