/** A one-line progress display on stderr: redrawn in place on a terminal, plain lines otherwise. */
export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private last = '';
  private started = Date.now();
  private timer: NodeJS.Timeout | undefined;

  start(label: string): void {
    this.started = Date.now();
    this.last = label;
    if (this.tty) {
      this.draw();
      this.timer = setInterval(() => this.draw(), 200);
      this.timer.unref();
    } else process.stderr.write(`… ${label}\n`);
  }

  private draw(): void {
    const s = ((Date.now() - this.started) / 1000).toFixed(1);
    const spin = '|/-\\'[Math.floor((Date.now() - this.started) / 200) % 4];
    process.stderr.write(`\r\x1b[2K${spin} ${this.last} (${s} s)`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) process.stderr.write('\r\x1b[2K');
  }
}
