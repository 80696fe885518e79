import { describe, expect, it } from "vitest";
import {
  engineLaunch,
  HOST_PROGRAMS,
  KERNEL_PROGRAMS,
  plan,
  type MachineFacts,
} from "../../src/setup/machine.js";
import { RuntimeUnavailableError } from "../../src/util/errors.js";

const all = Object.fromEntries(
  [...HOST_PROGRAMS, ...KERNEL_PROGRAMS, { program: "dockerd" }].map((p) => [
    p.program,
    `/usr/bin/${p.program}`,
  ]),
);

/** A machine that has everything. */
const ready: MachineFacts = {
  uid: 0,
  programs: all,
  staticLibc: true,
  aptGet: true,
  dockerHost: undefined,
  engine: "26.1.5",
  images: { tag: "tcprepro/node:abc", present: true, agent: true },
  kernels: [],
};

/** A fresh Debian machine: none of the packages, no engine. */
const fresh: MachineFacts = {
  ...ready,
  programs: Object.fromEntries(Object.keys(all).map((k) => [k, null])),
  staticLibc: false,
  engine: null,
  images: { tag: "tcprepro/node:abc", present: null, agent: false },
};

describe("tcprepro setup: what it decides to do", () => {
  it("a machine that has everything: nothing to do, and what is there is said", () => {
    const p = plan(ready);
    expect(p.steps).toEqual([]);
    expect(p.present.join("; ")).toMatch(
      /packages .*; engine 26.1.5 at \/var\/run\/docker.sock; image tcprepro\/node:abc/,
    );
  });

  it("a fresh machine: the packages (docker.io among them), the engine, the images, in that order", () => {
    const p = plan(fresh);
    expect(p.steps.map((s) => s.kind)).toEqual(["packages", "engine", "images"]);
    expect(p.steps[0]).toEqual({
      kind: "packages",
      packages: [
        "debootstrap",
        "docker.io",
        "gcc",
        "hping3",
        "iproute2",
        "iptables",
        "libc6-dev",
        "tcpdump",
      ],
    });
    expect(p.steps[1]).toMatchObject({ kind: "engine", launch: { argv: ["dockerd"] } });
    expect(p.present).toEqual([]);
  });

  it("dockerd installed but not running: started, not installed; a new engine gets its images", () => {
    const p = plan({ ...ready, engine: null, images: { ...ready.images, present: null } });
    expect(p.steps.map((s) => s.kind)).toEqual(["engine", "images"]);
    expect(p.steps[1]).toEqual({ kind: "images", what: "the images" });
    expect(plan(fresh).steps[2]).toEqual({ kind: "images", what: "the agent and the images" });
  });

  it("only the agent missing (a fresh npm install on a set-up machine): the agent", () => {
    const p = plan({ ...ready, images: { ...ready.images, agent: false } });
    expect(p.steps).toEqual([{ kind: "images", what: "the agent" }]);
  });

  it("kernels: only those not cached are fetched; their unpackers are needed then only", () => {
    const noZstd = { ...ready.programs, zstd: null };
    expect(plan({ ...ready, programs: noZstd }).steps).toEqual([]);
    const p = plan({
      ...ready,
      programs: noZstd,
      kernels: [
        { version: "6.1", cached: true },
        { version: "7.2", cached: false },
      ],
    });
    expect(p.steps).toEqual([
      { kind: "packages", packages: ["zstd"] },
      { kind: "kernels", versions: ["7.2"] },
    ]);
    expect(p.present).toContain("kernel 6.1");
  });

  it("not root: exit 2, saying so", () => {
    expect(() => plan({ ...ready, uid: 1000 })).toThrow(RuntimeUnavailableError);
    expect(() => plan({ ...ready, uid: 1000 })).toThrow(
      /run it as root \(sudo npx tcprepro setup\)/,
    );
  });

  it("no apt-get: the missing packages are named, exit 2", () => {
    expect(() => plan({ ...fresh, aptGet: false })).toThrow(
      /lacks gcc, debootstrap, .*docker\.io .*and has no apt-get/,
    );
  });

  it("an engine of one's own (DOCKER_HOST=unix://…): private roots, no bridge, no iptables", () => {
    const l = engineLaunch("unix:///tmp/d2.sock");
    expect(l.socket).toBe("/tmp/d2.sock");
    expect(l.argv.join(" ")).toBe(
      "dockerd --host unix:///tmp/d2.sock --data-root /tmp/d2.sock.d/data --exec-root /tmp/d2.sock.d/exec --pidfile /tmp/d2.sock.d/dockerd.pid --bridge tcprepro-" +
        l.bridge!.slice(9) +
        " --iptables=false",
    );
    // Never `--bridge none`: that deletes the host's docker0.
    expect(l.bridge).toMatch(/^tcprepro-[0-9a-f]{6}$/);
    expect(engineLaunch("unix:///var/run/docker.sock").argv).toEqual(["dockerd"]);
    expect(() => engineLaunch("tcp://10.0.0.1:2375")).toThrow(/starts only a local engine/);
  });
});
