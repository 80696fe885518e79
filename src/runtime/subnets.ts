/**
 * Subnet allocation: /24 blocks out of a pool (198.18.0.0/15, reserved for benchmarking, unless
 * the user sets another), skipping blocks already in use. Pure, so it is unit-tested.
 */

export const DEFAULT_POOL = "198.18.0.0/15";

function ipToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`"${ip}" is not an IPv4 address`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function parseCidr(cidr: string): { base: number; prefix: number } {
  const [ip, bits] = cidr.split("/");
  const prefix = Number(bits);
  if (!ip || !Number.isInteger(prefix) || prefix < 8 || prefix > 24)
    throw new Error(`"${cidr}" is not a pool (an IPv4 CIDR from /8 to /24)`);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return { base: (ipToInt(ip) & mask) >>> 0, prefix };
}

export function overlaps(a: string, b: string): boolean {
  const [ai, ab] = a.split("/");
  const [bi, bb] = b.split("/");
  const pa = Number(ab ?? 32);
  const pb = Number(bb ?? 32);
  const p = Math.min(pa, pb);
  const mask = p === 0 ? 0 : (~0 << (32 - p)) >>> 0;
  return (ipToInt(ai!) & mask) >>> 0 === (ipToInt(bi!) & mask) >>> 0;
}

/**
 * Candidate /24s of the pool not overlapping `used`, starting at a random block so that two runs
 * started together rarely try the same one first (the engine refuses an overlap; we then retry).
 */
export function freeSubnets(pool: string, used: string[], random = Math.random): string[] {
  const { base, prefix } = parseCidr(pool);
  // The engine's other networks may be IPv6 (or dual): only IPv4 blocks can overlap this pool.
  const used4 = used.filter((u) => !u.includes(":"));
  const blocks = 2 ** (24 - prefix);
  const start = Math.floor(random() * blocks);
  const out: string[] = [];
  for (let k = 0; k < blocks; k++) {
    const subnet = `${intToIp((base + ((start + k) % blocks) * 256) >>> 0)}/24`;
    if (!used4.some((u) => overlaps(u, subnet))) out.push(subnet);
  }
  return out;
}

/** Address `host` (1–254) of a /24. */
export function hostAddress(subnet: string, host: number): string {
  return intToIp((parseCidr(subnet).base + host) >>> 0);
}
