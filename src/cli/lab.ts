/**
 * `tcprepro lab up FILE` / `tcprepro lab down`: a scenario's topology, readied exactly as a run
 * readies it (gateway rules, apps listening), then left standing to poke at by hand.
 *
 * The built-in apps are started with the engine's exec, like in a run: the engine keeps an exec'd
 * process running when the client that started it goes away, so they outlive this command.
 * A lab's objects carry `tcprepro.lab=1` on top of a run's labels: `clean` leaves them (their
 * process is gone by design) unless `--all`, and `lab down` removes every lab.
 */
import type { Command } from "commander";
import { startLab } from "../api/lab.js";
import { connectArgv } from "../agent/protocol.js";
import { substitute } from "../traffic/command-traffic.js";
import { connectOptionsFor } from "../run/plan.js";
import { RUNTIMES } from "../runtime/registry.js";
import { installSignalHandlers } from "../util/interrupts.js";
import { FAMILY_OPTION, POOL6_OPTION, POOL_OPTION, RUNTIME_OPTION } from "./engine.js";

interface UpOptions {
  variant?: string;
  pool?: string;
  pool6?: string;
  family?: "ipv4" | "ipv6";
  base?: string;
  runtime: string;
}

/** Shell-quoted: the line is printed to paste. */
const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`);

async function labUp(file: string, opts: UpOptions): Promise<void> {
  const say = (line: string) => process.stderr.write(line + "\n");
  installSignalHandlers((ev) => (ev.kind === "warning" ? say(ev.message) : undefined));
  const lab = await startLab(file, {
    runtime: opts.runtime,
    variant: opts.variant,
    pool: opts.pool,
    pool6: opts.pool6,
    family: opts.family,
    base: opts.base,
    standing: true,
    onEvent: (e) => (e.kind === "prepare" || e.kind === "warning" ? say(e.message) : undefined),
  });
  const { runId, scenario: s, instances } = lab;
  const shell = (node: string, interactive: boolean) => lab.hostCommand(node, interactive);

  const out: string[] = [
    `lab ${runId}: ${s.name} (${lab.variant}) on ${lab.runtime} from ${file}`,
    "",
  ];
  const width = Math.max(...instances.map((i) => i.name.length));
  for (const inst of instances) {
    const node = lab.node(inst.name);
    const addrs = [...Object.entries(node.addresses), ...Object.entries(node.addresses6 ?? {})]
      .map(([net, ip]) => `${net} ${ip}`)
      .join(", ");
    const app = inst.spec.app
      ? `  app on :${inst.spec.app.listen} (backlog ${inst.spec.app.backlog})`
      : "";
    out.push(`  ${inst.name.padEnd(width)}  ${inst.role.padEnd(7)}  ${addrs}${app}`);
    const sh = shell(inst.name, true);
    out.push(
      `  ${"".padEnd(width)}  shell:   ${sh ? [...sh, "bash"].join(" ") : `none from the host on ${lab.runtime}`}`,
    );
  }
  if (s.traffic.length > 0) {
    out.push("", "the scenario's traffic, by hand:");
    for (const t of s.traffic) {
      const route = lab.route(t.from, `${t.to.node}:${t.to.port}`);
      const from = instances.find((i) => i.base === t.from)!;
      // A real client's command, its placeholders filled in (shell-quoted: it is printed to paste).
      const argv = t.command
        ? substitute(t.command, route).map(quote)
        : connectArgv(connectOptionsFor(s, t, route));
      const prefix = shell(from.name, false);
      out.push(`  ${prefix ? prefix.join(" ") + " " : `(in ${from.name}) `}${argv.join(" ")}`);
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
    .option(...RUNTIME_OPTION)
    .option(...POOL_OPTION)
    .option(...POOL6_OPTION)
    .option(...FAMILY_OPTION)
    .option("--base <image>", "base image for the node image (default: the offline image)")
    .action(labUp);
  lab
    .command("down")
    .description("remove every lab")
    .option("--all", "the same: every lab (there is no other kind to keep)", false)
    .action(async () => {
      for (const entry of RUNTIMES) {
        if (!entry.labs) continue;
        const r = await entry.labs.down();
        process.stdout.write(
          `removed ${r.nodes} container(s) and ${r.networks} network(s) (${entry.name})\n`,
        );
      }
    });
}
