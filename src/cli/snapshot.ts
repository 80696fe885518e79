import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { takeSnapshot } from "../snapshot/take.js";

export function registerSnapshot(program: Command): void {
  program
    .command("snapshot")
    .description(
      "one JSON file of this host's TCP state: kernel, TCP sysctls, every counter, listeners with their queues, sockets per state (docs/snapshot.md)",
    )
    .option("-o, --output <file>", "write to this file instead of stdout")
    .option(
      "--proc <dir>",
      "read this /proc instead of the live one (ss is then not asked for the listeners' Send-Q)",
    )
    .action((opts: { output?: string; proc?: string }) => {
      const snapshot = takeSnapshot({ procRoot: opts.proc });
      const text = JSON.stringify(snapshot, null, 2) + "\n";
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
      for (const note of snapshot.source.notes) process.stderr.write(`note: ${note}\n`);
    });
}
