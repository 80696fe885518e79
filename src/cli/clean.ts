import type { Command } from "commander";
import { removeOrphanTraceInstances } from "../evidence/drop-reasons.js";
import { connectDocker, DockerRuntime } from "../runtime/docker/docker-runtime.js";
import { NetnsRuntime } from "../runtime/netns/netns-runtime.js";
import type { CleanResult } from "../runtime/runtime.js";
import { NOTHING_CLEANED } from "../runtime/shared/clean.js";
import { RuntimeUnavailableError } from "../util/errors.js";
import { cleanVms } from "../vm/qemu.js";

export function registerClean(program: Command): void {
  program
    .command("clean")
    .description(
      "remove containers, networks, VMs and trace instances left by runs whose process is gone (labs stay)",
    )
    .option("--all", "remove those of every run, running ones and labs included", false)
    .action(async (opts: { all: boolean }) => {
      // Both runtimes: what a dead run left may be containers or namespaces.
      let docker: CleanResult = NOTHING_CLEANED;
      let dockerNote = "";
      try {
        docker = await new DockerRuntime(await connectDocker()).clean({ all: opts.all });
      } catch (err) {
        if (!(err instanceof RuntimeUnavailableError)) throw err;
        dockerNote = " (no Docker engine answers: containers not checked)";
      }
      const root = process.getuid?.() === 0;
      const netns = root ? await new NetnsRuntime().clean({ all: opts.all }) : NOTHING_CLEANED;
      const traces = removeOrphanTraceInstances(opts.all);
      const vms = await cleanVms(opts.all);
      process.stdout.write(
        `removed ${docker.nodes} container(s), ${docker.networks} network(s)${dockerNote}, ` +
          `${netns.nodes} namespace node(s), ${netns.networks} namespace network(s), ${vms} VM(s) and ${traces} trace instance(s)\n`,
      );
    });
}
