import type { Command } from "commander";
import { connectDocker } from "../runtime/docker/docker-runtime.js";
import { ensureImages } from "../runtime/docker/images.js";
import { buildAgent } from "../runtime/shared/agent.js";
import { installSignalHandlers } from "../util/interrupts.js";

const say = (m: string) => process.stderr.write(`· ${m}\n`);

export function registerImages(program: Command): void {
  const images = program.command("images").description("build what the nodes run");
  images
    .command("build")
    .description("build the agent, the base image (offline: debootstrap) and the node image")
    .option("--base <image>", "base image (default: the offline tcprepro/base:bookworm)")
    .option("--force", "rebuild even when present", false)
    .action(async (opts: { base?: string; force: boolean }) => {
      installSignalHandlers((e) => (e.kind === "warning" ? say(e.message) : undefined));
      const docker = await connectDocker();
      const tag = await ensureImages(docker, { base: opts.base, force: opts.force, progress: say });
      process.stdout.write(`${tag}\n`);
    });
  images
    .command("agent")
    .description("compile only the agent binary (build/tcprepro-agent)")
    .action(async () => {
      process.stdout.write(`${await buildAgent(say)}\n`);
    });
}
