/** `signal: SIGSTOP`: a signal to the node's app. SIGSTOP freezes the app, not the kernel's handshakes. */
import { z } from "zod";
import { defineFault } from "./fault.js";

export const signal = defineFault({
  schema: z
    .enum(["SIGSTOP", "SIGCONT", "SIGKILL", "SIGTERM"])
    .meta({ description: "Sent to the node's app" }),
  describe: (sig) => sig,
  checkTarget: (node, target) =>
    node.app || node.image ? undefined : `node "${target}" runs no app to signal`,
  async apply({ app, target }, sig) {
    if (!app) throw new Error(`fault ${sig}: node ${target} runs no built-in app`);
    await app.signal(sig);
  },
});
