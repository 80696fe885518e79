import type { Command } from "commander";
import { RUNTIMES } from "../runtime/registry.js";
import { buildAgent } from "../runtime/shared/agent.js";
import { installSignalHandlers } from "../util/interrupts.js";

const say = (m: string) => process.stderr.write(`· ${m}\n`);

export function registerImages(program: Command): void {
  const images = program.command("images").description("build what the nodes run");
  const builders = RUNTIMES.filter((r) => r.buildImages).map((r) => r.name);
  images
    .command("build")
    .description(
      `build the agent, the base image (offline: debootstrap) and the node image (${builders.join(", ")})`,
    )
    .option("--base <image>", "base image (default: the offline tcprepro/base:bookworm)")
    .option("--force", "rebuild even when present", false)
    .action(async (opts: { base?: string; force: boolean }) => {
      installSignalHandlers((e) => (e.kind === "warning" ? say(e.message) : undefined));
      // Every registered runtime that builds images ahead of a run.
      for (const entry of RUNTIMES) {
        if (!entry.buildImages) continue;
        const built = await entry.buildImages({ ...opts, progress: say });
        process.stdout.write(`${built}\n`);
      }
    });
  images
    .command("agent")
    .description("compile only the agent binary (build/tcprepro-agent)")
    .action(async () => {
      process.stdout.write(`${await buildAgent(say)}\n`);
    });
}
