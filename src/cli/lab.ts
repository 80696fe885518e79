/**
 * `tcprepro lab up FILE` / `tcprepro lab down`: a scenario's topology, readied exactly as a run
 * readies it (gateway rules, apps listening), then left standing to poke at by hand.
 *
 * The built-in apps are started with the engine's exec, like in a run: the engine keeps an exec'd
 * process running when the client that started it goes away, so they outlive this command.
 * A lab's objects carry `tcprepro.lab=1` on top of a run's labels: `clean` leaves them (their
 * process is gone by design) unless `--all`, and `lab down` removes every lab.
 */
import { defaultPool, POOL_OPTION } from "./engine.js";
import type { Command } from "commander";
import { connectArgv } from "../agent/protocol.js";
import { substitute } from "../traffic/command-traffic.js";
import { connectOptionsFor, planTopology, routeFor } from "../run/plan.js";
import { newRunId } from "../run/run-variant.js";
import { loadAll } from "../run/run.js";
import { setUpNodes } from "../run/setup.js";
import {
  connectDocker,
  containerName,
  DockerRuntime,
  removeLabs,
} from "../runtime/docker/docker-runtime.js";
import type { StartedTopology } from "../runtime/runtime.js";
import { anyKernel } from "../scenario/semantics.js";
import { UsageError } from "../util/errors.js";
import { onInterrupt, installSignalHandlers } from "../util/interrupts.js";

interface UpOptions {
  variant?: string;
  pool?: string;
  base?: string;
}

async function labUp(file: string, opts: UpOptions): Promise<void> {
  loadAll([file], anyKernel); // bad input fails before the engine is asked
  const docker = await connectDocker();
  const runtime = new DockerRuntime(docker, {
    pool: opts.pool ?? defaultPool(),
    baseImage: opts.base,
    lab: true,
  });
  const [loaded] = loadAll([file], await runtime.inventory());
  const variant = opts.variant
    ? loaded!.variants.find((v) => v.name === opts.variant)
    : loaded!.variants[0];
  if (!variant)
    throw new UsageError(
      `${file} has no variant named "${opts.variant}" (it has ${loaded!.variants.map((v) => v.name).join(", ")})`,
    );
  const s = variant.scenario;
  const say = (line: string) => process.stderr.write(line + "\n");
  installSignalHandlers((ev) => (ev.kind === "warning" ? say(ev.message) : undefined));

  await runtime.prepare(say);
  const runId = `lab-${newRunId()}`;
  const { plan: planned, instances } = planTopology(s, runId);
  const plan = await runtime.images(planned, say);
  // Until it is ready, an interrupted lab is removed like an interrupted run.
  const untrack = onInterrupt(() => runtime.remove(runId));
  let topo: StartedTopology | undefined;
  try {
    say(`bringing up ${loaded!.name} (${variant.name}): ${plan.nodes.length} nodes`);
    topo = await runtime.up(plan);
    await setUpNodes(s, topo, instances);
  } catch (err) {
    await runtime.remove(runId);
    throw err;
  } finally {
    untrack();
  }

  const out: string[] = [`lab ${runId}: ${loaded!.name} (${variant.name}) from ${file}`, ""];
  const width = Math.max(...instances.map((i) => i.name.length));
  for (const inst of instances) {
    const node = topo.nodes.get(inst.name)!;
    const addrs = Object.entries(node.addresses)
      .map(([net, ip]) => `${net} ${ip}`)
      .join(", ");
    const app = inst.spec.app
      ? `  app on :${inst.spec.app.listen} (backlog ${inst.spec.app.backlog})`
      : "";
    out.push(`  ${inst.name.padEnd(width)}  ${inst.role.padEnd(7)}  ${addrs}${app}`);
    out.push(
      `  ${"".padEnd(width)}  shell:   docker exec -it ${containerName(runId, inst.name)} bash`,
    );
  }
  if (s.traffic.length > 0) {
    out.push("", "the scenario's traffic, by hand:");
    for (const t of s.traffic) {
      const route = routeFor(s, topo, t);
      const from = instances.find((i) => i.base === t.from)!;
      // A real client's command, its placeholders filled in (shell-quoted: it is printed to paste).
      const argv = t.command
        ? substitute(t.command, route).map((a) =>
            /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`,
          )
        : connectArgv(connectOptionsFor(s, t, route));
      out.push(`  docker exec ${containerName(runId, from.name)} ${argv.join(" ")}`);
    }
  }
  out.push(
    "",
    "take it down: npx tcprepro lab down   (`tcprepro clean` leaves labs standing; `clean --all` does not)",
  );
  process.stdout.write(out.join("\n") + "\n");
  // The apps' exec streams would keep this process alive; the apps themselves keep running.
  process.exit(0);
}

export function registerLab(program: Command): void {
  const lab = program
    .command("lab")
    .description("bring a scenario's topology up and leave it running to poke at by hand");
  lab
    .command("up")
    .description("bring a scenario's topology up, ready (NAT rules, apps listening), and leave it")
    .argument("<file>", "scenario file")
    .option("--variant <name>", "this variant's topology (default: the baseline)")
    .option(...POOL_OPTION)
    .option("--base <image>", "base image for the node image (default: the offline image)")
    .action(labUp);
  lab
    .command("down")
    .description("remove every lab")
    .option("--all", "the same: every lab (there is no other kind to keep)", false)
    .action(async () => {
      const r = await removeLabs(await connectDocker());
      process.stdout.write(`removed ${r.nodes} container(s) and ${r.networks} network(s)\n`);
    });
}
