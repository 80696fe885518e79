/** `pause: true`: every process of the node stops, as the runtime pauses (freezer or SIGSTOP). */
import { z } from "zod";
import { defineFault } from "./fault.js";

export const pause = defineFault({
  schema: z.literal(true).meta({
    description:
      "Freeze every process of the node (docker: the cgroup freezer; netns: SIGSTOP to each process)",
  }),
  describe: () => "pause",
  apply: ({ node }) => node.pause(),
  // Resume a frozen node so that its capture can stop and teardown is quick.
  finish: ({ node }) => node.unpause().catch(() => undefined),
});
