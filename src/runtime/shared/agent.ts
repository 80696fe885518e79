/**
 * The agent: a static C program every node runs (hold, serve, connect), compiled once on the
 * host. The Docker runtime copies it into the node image; the netns runtime runs it directly.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { ExecError, RuntimeUnavailableError } from "../../util/errors.js";
import { PROJECT_ROOT } from "../../util/project.js";
import { runOnHost } from "./host-command.js";

export const AGENT_SOURCE = join(PROJECT_ROOT, "images/agent/tcprepro-agent.c");
export const AGENT_BINARY = join(PROJECT_ROOT, "build/tcprepro-agent");

/** Compile the agent when its binary is missing or older than its source. */
export async function buildAgent(progress: (m: string) => void): Promise<string> {
  if (existsSync(AGENT_BINARY) && statSync(AGENT_BINARY).mtimeMs >= statSync(AGENT_SOURCE).mtimeMs)
    return AGENT_BINARY;
  progress("compiling the agent (gcc -static)");
  mkdirSync(dirname(AGENT_BINARY), { recursive: true });
  try {
    await runOnHost([
      "gcc",
      "-O2",
      "-Wall",
      "-Wextra",
      "-static",
      "-o",
      AGENT_BINARY,
      AGENT_SOURCE,
    ]);
  } catch (err) {
    if (err instanceof ExecError && err.exitCode === null)
      throw new RuntimeUnavailableError(
        "gcc is needed to build the agent: `sudo npx tcprepro setup` installs it (or apt-get install -y gcc libc6-dev)",
      );
    throw err;
  }
  return AGENT_BINARY;
}
