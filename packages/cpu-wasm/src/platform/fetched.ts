/** Checks what a server answered for one of the package's files, so a failure names the URL and what came back. */

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export function isWasm(bytes: ArrayBuffer): boolean {
  const head = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  return head.length === 4 && WASM_MAGIC.every((b, i) => head[i] === b);
}

/** A one-line account of a response that is not the expected file, e.g. "got text/html from …/kernel.wasm". */
export function describeResponse(url: string, res: Response, body?: ArrayBuffer): string {
  if (!res.ok) return `HTTP ${res.status} from ${url}`;
  const type = res.headers.get('content-type') ?? 'no content-type';
  const head = body ? JSON.stringify(new TextDecoder().decode(body.slice(0, 12))) : '';
  const moved = /text\/html/.test(type) ? ': the bundler or server moved the file (that is a page, not the file)' : '';
  return `got ${type}${head ? ` starting ${head}` : ''} from ${url}${moved}`;
}

/** Why a worker script at `url` did not start, found by fetching it (same origin: no isolation header needed for that). */
export async function diagnoseScript(url: string, isolated: boolean): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    return `cannot fetch ${url}: ${(e as Error).message}`;
  }
  const type = res.headers.get('content-type') ?? '';
  if (!res.ok || !/javascript|ecmascript/.test(type)) return describeResponse(url, res, await res.arrayBuffer());
  if (isolated && !res.headers.get('cross-origin-embedder-policy'))
    return `${url} is served without the page's Cross-Origin-Embedder-Policy header, so the cross-origin isolated page may not start it`;
  return `${url} looks fine (${type}); the browser refused it (a Content-Security-Policy worker-src rule?)`;
}

export function base64Bytes(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
