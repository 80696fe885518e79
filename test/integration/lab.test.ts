/**
 * `tcprepro lab up` leaves a readied topology running after the CLI has exited (the app still
 * listens: a process started with the engine's exec outlives the client that started it),
 * `tcprepro clean` leaves it standing, and `tcprepro lab down` removes it all.
 */
import { afterAll, describe, expect, it } from "vitest";
import { parseSsListen } from "../../src/evidence/proc.js";
import { bridgesOf, cli, docker } from "./helpers.js";

const byRun = (runId: string) => ({ label: [`tcprepro.run=${runId}`] });
let runId: string | undefined;

/** Its containers, and its networks: the engine's, or the bridges of its switch (veth wiring). */
async function left(id: string): Promise<{ containers: number; networks: number }> {
  const containers = await docker.listContainers({ all: true, filters: byRun(id) });
  const networks = await docker.listNetworks({ filters: byRun(id) });
  return { containers: containers.length, networks: networks.length + bridgesOf(id) };
}

async function exec(container: string, argv: string[]): Promise<string> {
  const ex = await docker.getContainer(container).exec({ Cmd: argv, AttachStdout: true });
  const stream = await ex.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on("data", (d: Buffer) => chunks.push(d));
  await new Promise((r) => stream.on("end", r));
  // Multiplexed: 8-byte frame headers before each chunk of output.
  const raw = Buffer.concat(chunks);
  let out = "";
  for (let i = 0; i + 8 <= raw.length;) {
    const n = raw.readUInt32BE(i + 4);
    out += raw.subarray(i + 8, i + 8 + n).toString();
    i += 8 + n;
  }
  return out;
}

afterAll(async () => {
  // Whatever happened above, leave no lab behind.
  if (runId && (await left(runId)).containers + (await left(runId)).networks > 0)
    await cli(["lab", "down"]);
});

describe("tcprepro lab", () => {
  it("up leaves the topology running and ready, clean keeps it, down removes it", async () => {
    const up = await cli(["lab", "up", "scenarios/accept-queue-overflow.yaml"]);
    expect(up.code, up.stderr).toBe(0);
    runId = /^lab (lab-[0-9a-f]+):/m.exec(up.stdout)?.[1];
    expect(runId, up.stdout).toBeDefined();
    const server = `tcprepro-${runId}-server`;
    // Every node, with how to get a shell on it, and how to take it down.
    for (const node of ["gw", "client-1", "client-2", "server"])
      expect(up.stdout).toContain(`docker exec -it tcprepro-${runId}-${node} bash`);
    expect(up.stdout).toContain("tcprepro lab down");
    expect(await left(runId!)).toEqual({ containers: 4, networks: 2 });

    // The CLI has exited; the app it started still listens.
    const listen = parseSsListen(await exec(server, ["ss", "-lnt"]));
    expect(listen.find((l) => l.port === 8080)).toMatchObject({ port: 8080, sendQ: 8 });
    const containers = await docker.listContainers({ filters: byRun(runId!) });
    expect(containers.every((c) => c.Labels["tcprepro.lab"] === "1")).toBe(true);

    // Its process is gone, yet `clean` leaves a lab standing.
    const clean = await cli(["clean"]);
    expect(clean.code, clean.stderr).toBe(0);
    expect(await left(runId!)).toEqual({ containers: 4, networks: 2 });
    expect(parseSsListen(await exec(server, ["ss", "-lnt"])).some((l) => l.port === 8080)).toBe(
      true,
    );

    const down = await cli(["lab", "down"]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/removed \d+ container\(s\)/);
    expect(await left(runId!)).toEqual({ containers: 0, networks: 0 });
  });
});
