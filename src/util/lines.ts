/** Splits a byte stream into complete lines; a trailing partial line waits for the rest. */
export class LineSplitter {
  private rest = "";
  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.rest + chunk.toString();
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) if (line !== "") this.emit(line);
  }

  end(): void {
    if (this.rest !== "") this.emit(this.rest);
    this.rest = "";
  }
}

/**
 * Lines of a process's output for any number of listeners. Lines that arrive before the first
 * listener are kept and handed to it, so a caller that subscribes after spawning misses nothing.
 */
export class LineFeed {
  private readonly listeners: Array<(line: string) => void> = [];
  private readonly buffered: string[] = [];
  private readonly splitter = new LineSplitter((line) => {
    if (this.listeners.length === 0) this.buffered.push(line);
    for (const l of this.listeners) l(line);
  });

  push(chunk: Buffer | string): void {
    this.splitter.push(chunk);
  }

  end(): void {
    this.splitter.end();
  }

  onLine(listener: (line: string) => void): void {
    this.listeners.push(listener);
    for (const line of this.buffered.splice(0)) listener(line);
  }
}
