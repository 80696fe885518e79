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
