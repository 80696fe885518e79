import type { Command } from "commander";
import { checkVersion } from "../kernels/cache.js";
import { setupMachine } from "../setup/apply.js";
import { installSignalHandlers } from "../util/interrupts.js";

const say = (m: string) => process.stderr.write(`· ${m}\n`);

export function registerSetup(program: Command): void {
  program
    .command("setup")
    .description(
      "set this machine up, as root: the Debian packages, a Docker engine (started when none answers), the images, and kernels with --kernels; idempotent",
    )
    .option("--kernels <list>", "also fetch these VM kernels into the cache (e.g. 6.1,7.2)")
    .option("--base <image>", "base image the node image is built from (as images build --base)")
    .action(async (opts: { kernels?: string; base?: string }) => {
      const kernels = (opts.kernels ?? "")
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean);
      kernels.forEach(checkVersion);
      installSignalHandlers((e) => (e.kind === "warning" ? say(e.message) : undefined));
      const { done, plan } = await setupMachine({ kernels, base: opts.base, progress: say });
      const had = plan.present.length > 0 ? `already here: ${plan.present.join("; ")}` : "";
      process.stdout.write(
        done.length === 0
          ? `nothing to do: ${plan.present.join("; ")}\n`
          : `${done.map((d) => `done: ${d}`).join("\n")}\n${had ? had + "\n" : ""}`,
      );
    });
}
