/**
 * `validate --explain`: what a scenario file would make tcprepro execute, before anything runs —
 * per variant and node, every image, build context (and its Dockerfile's RUN lines), package,
 * command and iptables argv, and how each runtime isolates it. Pure: a loaded scenario in,
 * text out; nothing is built, pulled or started.
 */
import { carries, networkFamily } from "./family.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_PATH, connectArgv, serveArgv } from "../agent/protocol.js";
import { kindOf } from "../faults/registry.js";
import {
  connectOptionsFor,
  gatewayRulesWith,
  instanceNames,
  serveOptionsFor,
  nodeHasIpv6,
} from "../run/plan.js";
import type { LoadedScenario, Variant } from "./load.js";
import type { Scenario, ScenarioNode } from "./schema.js";

/** How each runtime isolates what runs in a node (README, "Scenario files are code"). */
export const ISOLATION = [
  "docker: a container per node from its image (own filesystem, processes, network); Docker's default capabilities plus NET_ADMIN and NET_RAW, not privileged; internal networks, no route out",
  "netns:  a network and a mount namespace per node running the host's binaries as root: the host's files read-only, its own /tmp, /run, /var/tmp, /dev; Docker's default capabilities less MKNOD plus NET_ADMIN; the host's PID namespace (it can see and signal host processes); no route out; no images",
  "vm:     the netns runtime inside a VM on the kernel under test: the guest sees the host's / read-only over 9p and has no network device; no images",
];

const quote = (a: string) =>
  /^[\w@%+=:,./{}<>-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
const shell = (argv: readonly string[]) =>
  argv.map((a) => (a === AGENT_PATH ? "tcprepro-agent" : quote(a))).join(" ");

/** A Dockerfile's RUN instructions, continuation lines joined: what a build executes. */
export function dockerfileRuns(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  return joined
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => /^RUN\s/i.test(l))
    .map((l) => l.replace(/\s+/g, " "));
}

function imageLines(node: ScenarioNode): string[] {
  const out: string[] = [];
  if (node.container)
    out.push(
      `joins the existing container ${node.container} (not created, not removed by tcprepro)`,
    );
  if (node.image) out.push(`image ${node.image} (pulled by Docker if missing)`);
  if (node.build) {
    const { context, dockerfile, args } = node.build;
    const argText = Object.entries(args)
      .map(([k, v]) => ` --build-arg ${k}=${quote(v)}`)
      .join("");
    out.push(`build context ${context}, ${dockerfile}${argText} (docker build, no network)`);
    let text: string | undefined;
    try {
      text = readFileSync(join(context, dockerfile), "utf8");
    } catch (err) {
      out.push(`  (cannot read ${dockerfile}: ${(err as Error).message})`);
    }
    for (const run of text === undefined ? [] : dockerfileRuns(text)) out.push(`  ${run}`);
  }
  if (node.packages)
    out.push(
      `packages ${node.packages.join(" ")} (downloaded on the host, installed with dpkg into the image: their maintainer scripts run in the build)`,
    );
  if (node.command) out.push(`command ${shell(node.command)}`);
  return out;
}

/** Symbolic addresses (`<gw@lan>`): the argv as it will run, less the run's own addresses. */
const symbolic = (node: string, family: "ipv4" | "ipv6") =>
  new Proxy(
    {},
    { get: (_, net) => `<${node}@${String(net)}${family === "ipv6" ? "/ipv6" : ""}>` },
  ) as Record<string, string>;

function nodeLines(s: Scenario, name: string, node: ScenarioNode): string[] {
  const out = imageLines(node);
  const userSoftware = node.image || node.build || node.packages;
  if (node.app)
    out.push(
      `tcprepro's app: ${shell(serveArgv(serveOptionsFor(node.app, nodeHasIpv6(s, node))))}`,
    );
  if (node.ready?.command) out.push(`ready command ${shell(node.ready.command)}`);
  if (node.capture) out.push("tcpdump -i any -w <capture> tcp (tcprepro's capture)");
  for (const argv of gatewayRulesWith(s, symbolic).get(name) ?? [])
    out.push(`${shell(argv)} (tcprepro's gateway rule)`);
  s.traffic.forEach((t, i) => {
    if (t.from !== name) return;
    const to = `${t.to.node}:${t.to.port}`;
    if (t.command)
      out.push(
        `traffic ${i} → ${to}: ${shell(t.command)} (${t.connections} runs, ${t.concurrency} at once, in a sh runner; {url} {target} {host} {port} are the route)`,
      );
    else {
      const argv = connectArgv(
        connectOptionsFor(s, t, { host: `<${t.to.node}>`, port: t.to.port }),
      );
      out.push(`traffic ${i} → ${to}: tcprepro's generator ${shell(argv.slice(0, 6))} …`);
    }
  });
  s.floods.forEach((f, i) => {
    if (f.from !== name) return;
    const net = node.networks.find((n) => s.nodes[f.to.node]?.networks.includes(n));
    // hping3 has no IPv6: over an IPv6-only network the agent sends the SYNs.
    out.push(
      net && !carries(networkFamily(s, net), "ipv4")
        ? `flood ${i}: tcprepro-agent synflood --host <${f.to.node}/ipv6> --port ${f.to.port} --count ${f.count}`
        : `flood ${i}: hping3 -q -S -p ${f.to.port} -c ${f.count} --faster <${f.to.node}>`,
    );
  });
  s.faults.forEach((f, i) => {
    if (f.target !== name) return;
    const { name: kind, params } = kindOf(f);
    const what =
      kind === "iptables"
        ? shell(["iptables", ...(params as string[])])
        : `${kind}${params === true ? "" : ` ${JSON.stringify(params)}`}`;
    out.push(`fault ${i} at ${f.at} ms: ${what}`);
  });
  if (!userSoftware && !node.container && !node.app) out.push("tcprepro's agent: hold");
  return out;
}

function variantLines(v: Variant): string[] {
  const s = v.scenario;
  const out: string[] = [];
  for (const [name, node] of Object.entries(s.nodes)) {
    const instances = instanceNames(name, node);
    const label = instances.length > 1 ? `${name} (${instances.join(", ")})` : name;
    const runtimes =
      node.image || node.build || node.packages || node.container ? " — docker only" : "";
    out.push(`    node ${label}${runtimes}`);
    for (const line of nodeLines(s, name, node)) out.push(`      ${line}`);
  }
  if (s.kernelSysctls)
    out.push(
      `    kernel-wide sysctls (a runtime that owns its kernel only): ${Object.entries(
        s.kernelSysctls,
      )
        .map(([k, val]) => `${k}=${val}`)
        .join(" ")}`,
    );
  return out;
}

/** The whole explanation of one loaded scenario file. */
export function explainScenario(loaded: LoadedScenario): string {
  const out = [`${loaded.file}: ${loaded.name}`];
  for (const v of loaded.variants) {
    out.push(`  variant ${v.name}`);
    out.push(...variantLines(v));
  }
  return out.join("\n") + "\n";
}

/** Printed once before the scenarios. */
export function isolationText(): string {
  return (
    ["how each runtime isolates what a node runs:", ...ISOLATION.map((l) => `  ${l}`)].join("\n") +
    "\n"
  );
}
