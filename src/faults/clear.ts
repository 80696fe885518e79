/**
 * `clear: iptables`: the path heals. Every rule the earlier `iptables:` faults added to this node
 * (`-I`/`-A`) is deleted again (`-D` with the same rule), newest first.
 */
import { z } from "zod";
import { defineFault } from "./fault.js";
import { firewallsOf } from "./firewall.js";

const ADD = new Set(["-I", "--insert", "-A", "--append"]);

/** The command that deletes the rule an `-I`/`-A` command added; undefined for other commands. */
export function deleteCommand(args: readonly string[]): string[] | undefined {
  const i = args.findIndex((a) => ADD.has(a));
  const chain = args[i + 1];
  if (i < 0 || chain === undefined) return undefined;
  let rule = args.slice(i + 2);
  // `-I CHAIN 3 …`: the position is not part of the rule.
  if ((args[i] === "-I" || args[i] === "--insert") && /^\d+$/.test(rule[0] ?? ""))
    rule = rule.slice(1);
  return [...args.slice(0, i), "-D", chain, ...rule];
}

export const clear = defineFault({
  schema: z.literal("iptables").meta({
    description:
      "Undo the iptables: faults applied to this node so far: each rule they added is deleted",
  }),
  describe: () => "clear iptables",
  async apply({ node, target, applied }, _what) {
    const deletes = applied
      .filter((f) => f.kind === "iptables" && f.target === target)
      .map((f) => deleteCommand(f.params as string[]))
      .filter((argv) => argv !== undefined)
      .reverse();
    if (deletes.length === 0)
      throw new Error(`clear: no iptables rule was added to node ${target} before`);
    for (const argv of deletes)
      for (const binary of firewallsOf(node, argv)) await node.exec([binary, ...argv]);
  },
});
