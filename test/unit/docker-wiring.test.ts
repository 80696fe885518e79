/** Veth wiring of Docker nodes: the pure parts (who wires, which sysctls wait for the veths). */
import { hostname, release } from "node:os";
import { describe, expect, it } from "vitest";
import { chooseWiring, splitSysctls, switchName } from "../../src/runtime/docker/wiring.js";

describe("splitSysctls", () => {
  it("keeps the sysctls of interfaces we add until they exist", () => {
    const { atStart, afterPlug } = splitSysctls(
      {
        "net.ipv4.ip_forward": "1",
        "net.ipv4.conf.all.rp_filter": "0",
        "net.ipv4.conf.eth1.rp_filter": "2",
        "net.ipv6.conf.eth0.disable_ipv6": "1",
        "net.ipv4.neigh.eth0.gc_stale_time": "5",
        "net.ipv4.conf.eth7.rp_filter": "2",
      },
      ["eth0", "eth1"],
    );
    expect(atStart).toEqual({
      "net.ipv4.ip_forward": "1",
      "net.ipv4.conf.all.rp_filter": "0",
      // Not one of ours: the engine is left to refuse it, as before.
      "net.ipv4.conf.eth7.rp_filter": "2",
    });
    expect(afterPlug).toEqual({
      "net.ipv4.conf.eth1.rp_filter": "2",
      "net.ipv6.conf.eth0.disable_ipv6": "1",
      "net.ipv4.neigh.eth0.gc_stale_time": "5",
    });
  });
});

describe("chooseWiring", () => {
  const local = { KernelVersion: release(), Name: hostname() };

  it("lets the engine wire when it runs on another kernel, or when told to", () => {
    expect(
      chooseWiring({ KernelVersion: "5.15.0-docker-desktop", Name: "docker-desktop" }),
    ).toEqual({ wiring: "engine", why: "the engine runs on another kernel" });
    expect(chooseWiring(local, "engine").wiring).toBe("engine");
  });

  it("wires with veths on a local engine as root, and refuses a forced veth it cannot do", () => {
    if (process.getuid?.() === 0) expect(chooseWiring(local, undefined).wiring).toBe("veth");
    expect(() => chooseWiring({ KernelVersion: "x", Name: "y" }, "veth")).toThrow(
      /TCPREPRO_DOCKER_WIRING=veth, but the engine runs on another kernel/,
    );
  });

  it("names the switch so that the netns runtime's clean never takes it for its own", () => {
    expect(switchName("ab12cd34")).toBe("tcprepro.docker-ab12cd34");
    expect(switchName("ab12cd34").startsWith("tcprepro-")).toBe(false);
  });
});
