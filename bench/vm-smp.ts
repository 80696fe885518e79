/**
 * `npx tsx bench/vm-smp.ts [kernel] [boots]`: one kernel's boot time under TCG with 1 and with 2
 * vCPUs (TCPREPRO_VM_CPUS, multi-threaded TCG), alternated boot by boot so the machine's load
 * falls on both alike. Prints JSON; the catalog with each is `TCPREPRO_VM_CPUS=2 tcprepro run
 * scenarios/ --kernel 6.1`.
 */
import { loadavg } from "node:os";
import { VmRuntime } from "../src/vm/vm-runtime.js";

const kernel = process.argv[2] ?? "6.1";
const boots = Number(process.argv[3] ?? 3);
const say = (m: string) => process.stderr.write(`· ${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

process.env.TCPREPRO_ACCEL = "tcg";
const out: Record<string, number[]> = { "1": [], "2": [] };
const load = [loadavg()[0]!];
for (let i = 0; i < boots; i++)
  for (const cpus of ["1", "2"]) {
    process.env.TCPREPRO_VM_CPUS = cpus;
    const vm = new VmRuntime({ version: kernel });
    await vm.prepare(say);
    out[cpus]!.push(vm.bootMs!);
    await vm.close();
  }
load.push(loadavg()[0]!);
console.log(
  JSON.stringify({
    kernel,
    bootMs: out,
    medianMs: { "1": median(out["1"]!), "2": median(out["2"]!) },
    load1: load.map((l) => Math.round(l * 10) / 10),
  }),
);
