/** `unpause: true`: the processes a `pause` stopped run again. */
import { z } from "zod";
import { defineFault } from "./fault.js";

export const unpause = defineFault({
  schema: z.literal(true).meta({ description: "Thaw what an earlier pause froze" }),
  describe: () => "unpause",
  apply: ({ node }) => node.unpause(),
});
