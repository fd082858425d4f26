import { ARENA_BASE } from './abi.js';

/** Alignment of resident allocations (a cache line; also keeps every v128 access aligned). */
export const HEAP_ALIGN = 64;

/**
 * The resident region of a device's memory: [ARENA_BASE, top). Resident tensors and KV caches are allocated here
 * with first fit over a free list (neighbouring free blocks merge; a free block at the top lowers the top). The
 * per-call arena is laid out from `top` on, so a call never overwrites a resident allocation; the memory itself only
 * grows. Single-threaded: the host changes it between calls only (see resident.ts).
 */
export class ResidentHeap {
  /** One past the last resident byte: where the per-call arena starts. */
  top = ARENA_BASE;
  /** Free blocks below top, by address, none adjacent to another. */
  private readonly free: { at: number; bytes: number }[] = [];
  private readonly sizes = new Map<number, number>();

  /** Bytes held by live allocations. */
  get used(): number {
    let n = 0;
    for (const b of this.sizes.values()) n += b;
    return n;
  }

  /** Live allocations. */
  get count(): number {
    return this.sizes.size;
  }

  /** Where `bytes` would go, and the top after it (nothing changes): for checks before growing the memory. */
  peek(bytes: number): { at: number; top: number } {
    const size = roundUp(Math.max(1, bytes));
    const hole = this.free.find((b) => b.bytes >= size);
    return hole ? { at: hole.at, top: this.top } : { at: this.top, top: this.top + size };
  }

  /** Allocates `bytes` (rounded up to HEAP_ALIGN); returns the byte address. */
  alloc(bytes: number): number {
    const size = roundUp(Math.max(1, bytes));
    const n = this.free.findIndex((b) => b.bytes >= size);
    let at: number;
    if (n >= 0) {
      const hole = this.free[n]!;
      at = hole.at;
      if (hole.bytes === size) this.free.splice(n, 1);
      else {
        hole.at += size;
        hole.bytes -= size;
      }
    } else {
      at = this.top;
      this.top += size;
    }
    this.sizes.set(at, size);
    return at;
  }

  /** Frees an allocation made by alloc() (unknown addresses are ignored). */
  release(at: number): void {
    const size = this.sizes.get(at);
    if (size === undefined) return;
    this.sizes.delete(at);
    let n = this.free.findIndex((b) => b.at > at);
    if (n < 0) n = this.free.length;
    this.free.splice(n, 0, { at, bytes: size });
    // Merge with the next block, then with the previous one.
    const next = this.free[n + 1];
    if (next && at + size === next.at) {
      this.free[n]!.bytes += next.bytes;
      this.free.splice(n + 1, 1);
    }
    const prev = this.free[n - 1];
    if (prev && prev.at + prev.bytes === at) {
      prev.bytes += this.free[n]!.bytes;
      this.free.splice(n, 1);
      n--;
    }
    // A free block at the top lowers it: the arena moves back down.
    const last = this.free[this.free.length - 1];
    if (last && last.at + last.bytes === this.top) {
      this.top = last.at;
      this.free.pop();
    }
  }
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / HEAP_ALIGN) * HEAP_ALIGN;
}
