/** `iptables: [...]`: one iptables command in the node's own network namespace. */
import { z } from "zod";
import { defineFault } from "./fault.js";

export const iptables = defineFault({
  schema: z.array(z.string()).min(2).meta({
    description:
      'An iptables command in the node, as an array: ["-I", "INPUT", "-p", "tcp", "-j", "DROP"]',
  }),
  describe: (args) => `iptables ${args.join(" ")}`,
  apply: async ({ node }, args) => {
    await node.exec(["iptables", ...args]);
  },
});
