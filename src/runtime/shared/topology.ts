/** The started topology every runtime returns: its nodes, and a teardown that sweeps by run id. */
import type { StartedNode, StartedTopology } from "../runtime.js";

export class SweptTopology implements StartedTopology {
  readonly nodes = new Map<string, StartedNode>();
  readonly subnets: Record<string, string> = {};
  subnets6: Record<string, string> | undefined;
  private downing: Promise<void> | undefined;

  /** `sweep` removes everything of the run, whatever exists of it (by label, by name). */
  constructor(
    readonly runId: string,
    private readonly sweep: (runId: string) => Promise<unknown>,
  ) {}

  /** Calls made while one sweep runs share it; a later call sweeps again. */
  down(): Promise<void> {
    this.downing ??= this.sweep(this.runId)
      .then(() => undefined)
      .finally(() => (this.downing = undefined));
    return this.downing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}
