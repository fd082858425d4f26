/**
 * A pool of GPUBuffers keyed by usage and size class, so repeated calls reuse allocations. A buffer may be
 * released right after the submission that uses it: WebGPU orders later queue writes after earlier submissions.
 * Size classes are 1/8 steps of a power of two (at most 12.5% slack), never above `maxBytes`.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private freeBytes = 0;
  created = 0;
  reused = 0;
  destroyed = 0;

  /** Buffers that exist now: in use by a call, or kept free for reuse. */
  get live(): number {
    return this.created - this.destroyed;
  }

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
    private readonly keepBytes = 256 * 1024 * 1024,
  ) {}

  static sizeClass(bytes: number, max: number): number {
    const b = Math.max(256, Math.ceil(bytes / 16) * 16);
    const p = 2 ** Math.floor(Math.log2(b));
    const step = Math.max(16, p / 8);
    const rounded = Math.ceil(b / step) * step;
    return rounded <= max ? rounded : Math.ceil(bytes / 4) * 4;
  }

  acquire(bytes: number, usage: number, label: string): GPUBuffer {
    const size = BufferPool.sizeClass(bytes, this.maxBufferSize);
    const key = `${usage}:${size}`;
    const list = this.free.get(key);
    const hit = list?.pop();
    if (hit) {
      this.freeBytes -= size;
      this.reused++;
      return hit;
    }
    this.created++;
    return this.device.createBuffer({ size, usage, label: `sparse-webgpu ${label}` });
  }

  release(buffer: GPUBuffer): void {
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.freeBytes += buffer.size;
    while (this.freeBytes > this.keepBytes) if (!this.evictOne()) break;
  }

  private evictOne(): boolean {
    for (const [key, list] of this.free) {
      const b = list.shift();
      if (!b) {
        this.free.delete(key);
        continue;
      }
      this.freeBytes -= b.size;
      b.destroy();
      this.destroyed++;
      return true;
    }
    return false;
  }

  clear(): void {
    for (const list of this.free.values())
      for (const b of list) {
        b.destroy();
        this.destroyed++;
      }
    this.free.clear();
    this.freeBytes = 0;
  }
}
