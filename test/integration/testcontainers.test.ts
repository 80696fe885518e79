/**
 * A container the user's own test started with testcontainers becomes a scenario's server
 * node: joined to the run's network, its counters read, its accept queue overflowed, and left
 * running (detached) afterwards. Offline: Ryuk off, a local image.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { serveArgv } from "../../src/agent/protocol.js";
import { run } from "../../src/index.js";
import "../../src/vitest.js";
import { docker } from "./helpers.js";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";

describe("a testcontainers StartedTestContainer as a node", () => {
  let server: StartedTestContainer;
  // testcontainers creates the container before it starts it, and with Ryuk off nothing removes
  // one whose start failed (it is not a run's, so `tcprepro clean` does not see it either): the
  // label finds it whatever happened.
  const label = `tcprepro.test=testcontainers-${randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    // The built-in app in tcprepro's image stands in for the user's server: listen(8), never accept().
    const [key, value] = label.split("=") as [string, string];
    server = await new GenericContainer("tcprepro/node:latest")
      .withLabels({ [key]: value })
      .withCommand(
        serveArgv({
          port: 8080,
          backlog: 8,
          accept: "never",
          reply: true,
          closeFirst: false,
          resetOnClose: false,
        }),
      )
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forListeningPorts())
      .start();
  });

  afterAll(async () => {
    await server?.stop();
    const left = await docker.listContainers({ all: true, filters: { label: [label] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  });

  it("overflows its accept queue, and is left running, detached", async () => {
    const report = await run(
      {
        name: "testcontainers-server",
        summary: "a user's own container that never accepts",
        networks: ["wan"],
        nodes: {
          client: { networks: ["wan"] },
          server: { networks: ["wan"], container: server.getId(), ready: { port: 8080 } },
        },
        traffic: [
          {
            from: "client",
            to: "server:8080",
            connections: 40,
            concurrency: 40,
            connectTimeout: "1500ms",
          },
        ],
        expect: { cause: "accept-queue-overflow", clients: { timeout: "> 0" } },
      },
      { runtime: "docker" },
    );
    expect(report).toPass();
    expect(report).toHaveCounter("server", "TcpExtListenOverflows", "> 0");
    const info = await docker.getContainer(server.getId()).inspect();
    expect(info.State.Running).toBe(true);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual(["bridge"]);
  });
});
