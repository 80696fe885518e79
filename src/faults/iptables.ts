/**
 * `iptables: [...]`: one iptables command in the node's own network namespace. A scenario file
 * may come from someone else, so an argv that makes iptables run a program of the host or load
 * code from outside its extension directory is refused at load (iptablesProblem).
 */
import { z } from "zod";
import { defineFault } from "./fault.js";
import { firewallsOf } from "./firewall.js";

/**
 * Short options that take no value (iptables' getopt strings: `-:A:C:D:E:F::I:L::M:N:P:VX::…`);
 * after any other letter the rest of the cluster is that option's value.
 */
const FLAGS = new Set(["V", "n", "v", "x", "f", "b", "4", "6"]);
/** Options whose value names an extension: a path there would dlopen a library of its choosing. */
const EXTENSION_OPTIONS = new Set(["-m", "--match", "-j", "--jump", "-g", "--goto"]);

/**
 * Why this argv must not run, naming the offending element's index; undefined when it may.
 * `--modprobe=CMD` / `-M CMD` (iptables(8): "use command to load any necessary modules") runs
 * CMD on the host as root; getopt_long takes any unambiguous prefix (`--modp`), and a short
 * option may hide in a cluster (`-nM/bin/sh`).
 */
export function iptablesProblem(
  args: readonly string[],
): { index: number; message: string } | undefined {
  const refused = (index: number, what: string) => ({
    index,
    message: `${what}: a scenario may not make iptables run a program of the host or load code (iptables(8) --modprobe); the fault's own rule is all it may give`,
  });
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--")) {
      const name = a.slice(2).split("=")[0]!;
      // --mode (the statistic match's) is exact; --mo, --mod, --modp… are --modprobe or ambiguous.
      if (name.length >= 2 && name !== "mode" && "modprobe".startsWith(name))
        return refused(i, `"${a}" is iptables' --modprobe`);
      if (name.startsWith("modprobe")) return refused(i, `"${a}" is iptables' --modprobe`);
    } else if (a.startsWith("-") && a.length > 1) {
      for (const c of a.slice(1)) {
        if (c === "M") return refused(i, `"${a}" holds -M, iptables' --modprobe`);
        if (!FLAGS.has(c)) break;
      }
    }
    if (EXTENSION_OPTIONS.has(a) && args[i + 1]?.includes("/"))
      return refused(i + 1, `extension "${args[i + 1]}" is a path`);
  }
  return undefined;
}

export const iptables = defineFault({
  schema: z
    .array(z.string())
    .min(2)
    .superRefine((args, ctx) => {
      const problem = iptablesProblem(args);
      if (problem)
        ctx.addIssue({ code: "custom", path: [problem.index], message: problem.message });
    })
    .meta({
      description:
        'An iptables command in the node, as an array: ["-I", "INPUT", "-p", "tcp", "-j", "DROP"]',
    }),
  describe: (args) => `iptables ${args.join(" ")}`,
  // A dual-stack node gets the rule from iptables and ip6tables alike (firewall.ts).
  apply: async ({ node }, args) => {
    for (const binary of firewallsOf(node, args)) await node.exec([binary, ...args]);
  },
});
