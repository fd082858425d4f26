/** Data on a SharedArrayBuffer, which Dawn's `queue.writeBuffer` cannot take (it crashes the process). */
export function isShared(data: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
}
