/**
 * A standing topology made ready for traffic: the gateways' NAT rules in place and every
 * built-in app listening. Shared by runs and by `tcprepro lab up`.
 */
import { serveArgv } from "../agent/protocol.js";
import type { NodeProcess, StartedTopology } from "../runtime/runtime.js";
import type { Scenario } from "../scenario/schema.js";
import { ExecError } from "../util/errors.js";
import { withDeadline } from "../util/time.js";
import { gatewayRules, nodeHasIpv6, serveOptionsFor, type NodeInstance } from "./plan.js";
import { waitReady } from "./readiness.js";

export interface ReadyNodes {
  /** The app process of each scenario node (by its scenario name) that runs the built-in app. */
  apps: Map<string, NodeProcess>;
  /** The app's port, by node instance name. */
  appPorts: Map<string, number>;
}

export async function setUpNodes(
  s: Scenario,
  topo: StartedTopology,
  instances: NodeInstance[],
): Promise<ReadyNodes> {
  const node = (name: string) => topo.nodes.get(name)!;
  for (const [gw, rules] of gatewayRules(s, topo))
    for (const argv of rules) await node(gw).exec(argv);

  // Start every built-in app and wait until it listens: traffic sent earlier would find no
  // listener and measure ECONNREFUSED instead of the failure under test.
  const apps = new Map<string, NodeProcess>();
  const appPorts = new Map<string, number>();
  for (const inst of instances) {
    const app = inst.spec.app;
    if (!app) continue;
    const proc = await node(inst.name).spawn(
      serveArgv(serveOptionsFor(app, nodeHasIpv6(s, inst.spec))),
    );
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        proc.onLine((line) => (line.includes('"listening"') ? resolve() : undefined));
        void proc.exited.then((code) =>
          reject(new ExecError(["serve"], code, proc.stderr(), inst.name)),
        );
      }),
      10_000,
      `${inst.name}: app listening on ${app.listen}`,
    );
    apps.set(inst.base, proc);
    appPorts.set(inst.name, app.listen);
  }
  await waitReady(topo, instances);
  return { apps, appPorts };
}
