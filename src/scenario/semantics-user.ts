/**
 * Checks of the keys for the user's own software (`image`, `build`, `packages`, `ready`,
 * `traffic[].command`) that the schema cannot express, and the resolution of build contexts
 * against the scenario file's directory.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { COMMAND_PLACEHOLDERS, literalAddressIn } from "./schema-user.js";
import type { Scenario, ScenarioNode } from "./schema.js";
import type { SemanticProblem } from "./values.js";

/** The node runs software of the user's own (an image, a build, or packages on ours). */
export function runsUserSoftware(node: ScenarioNode): boolean {
  return (
    node.image !== undefined ||
    node.build !== undefined ||
    node.packages !== undefined ||
    node.container !== undefined
  );
}

/**
 * `build: ./app` is relative to the scenario file: rewrite it to an absolute path in the raw
 * document, so that variants and later steps need not know where the file was.
 */
export function resolveBuildContexts(raw: Record<string, unknown>, file: string): void {
  const nodes = raw.nodes;
  if (!nodes || typeof nodes !== "object") return;
  const base = dirname(resolve(file));
  for (const node of Object.values(nodes as Record<string, unknown>)) {
    if (!node || typeof node !== "object") continue;
    const n = node as Record<string, unknown>;
    if (typeof n.build === "string" && !isAbsolute(n.build)) n.build = resolve(base, n.build);
    else if (n.build && typeof n.build === "object") {
      const b = n.build as Record<string, unknown>;
      if (typeof b.context === "string" && !isAbsolute(b.context))
        b.context = resolve(base, b.context);
    }
  }
}

export function checkUserNodes(s: Scenario): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message });

  for (const [name, node] of Object.entries(s.nodes)) {
    const sources = (["image", "build", "packages", "container"] as const).filter(
      (k) => node[k] !== undefined,
    );
    if (sources.length > 1)
      add(
        ["nodes", name, sources[1]!],
        `a node's image comes from one of image, build, packages, container (this one has ${sources.join(" and ")})`,
      );
    if (node.container !== undefined) {
      // It exists already: nothing can be set at its creation or replicated.
      for (const key of ["app", "command"] as const)
        if (node[key] !== undefined)
          add(["nodes", name, key], `${key} cannot be given to an existing container`);
      if (Object.keys(node.sysctls).length > 0)
        add(
          ["nodes", name, "sysctls"],
          "sysctls are set when a container is created: an existing container keeps its own",
        );
      if (node.replicas > 1)
        add(["nodes", name, "replicas"], "an existing container is one node: no replicas");
    }
    if (node.app && (node.image || node.build))
      add(["nodes", name, "app"], "a node runs either app: or its own image, not both");
    if (node.app && node.command)
      add(["nodes", name, "command"], "a node runs either app: or its own command, not both");
    if (node.ready && !runsUserSoftware(node))
      add(
        ["nodes", name, "ready"],
        "ready waits for your own software: give the node image, build, packages or container (the built-in app is waited for already)",
      );
    if (node.build) {
      const { context, dockerfile } = node.build;
      if (!existsSync(context) || !statSync(context).isDirectory())
        add(["nodes", name, "build"], `build context ${context} is not a directory`);
      else if (!existsSync(join(context, dockerfile)))
        add(["nodes", name, "build"], `no ${dockerfile} in build context ${context}`);
    }
  }

  s.traffic.forEach((t, i) => {
    if (!t.command) return;
    t.command.forEach((arg, j) => {
      const literal = literalAddressIn(arg);
      if (literal) add(["traffic", i, "command", j], literal);
      for (const m of arg.matchAll(/\{[a-z]+\}/g))
        if (!(COMMAND_PLACEHOLDERS as readonly string[]).includes(m[0]))
          add(
            ["traffic", i, "command", j],
            `unknown placeholder ${m[0]} (use ${COMMAND_PLACEHOLDERS.join(", ")})`,
          );
    });
  });
  return problems;
}
