/**
 * IPv6 subnet allocation: /64 blocks out of a pool (2001:2::/48, reserved for benchmarking by
 * RFC 5180 as 198.18.0.0/15 is for IPv4, unless the user sets another with --pool6 or
 * TCPREPRO_POOL6), skipping blocks already in use. Pure, so it is unit-tested.
 */

export const DEFAULT_POOL6 = "2001:2::/48";

/** The IPv6 pool: an explicit one, else TCPREPRO_POOL6, else the default. */
export function pool6(explicit?: string): string {
  return explicit ?? process.env.TCPREPRO_POOL6 ?? DEFAULT_POOL6;
}

export function ip6ToBigInt(ip: string): bigint {
  const bad = () => new Error(`"${ip}" is not an IPv6 address`);
  const halves = ip.split("::");
  if (halves.length > 2) throw bad();
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) throw bad();
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

/** RFC 5952 text: lower case, the longest run of zero groups (two or more) as `::`. */
export function bigIntToIp6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

export function parseCidr6(cidr: string): { base: bigint; prefix: number } {
  const [ip, bits] = cidr.split("/");
  const prefix = Number(bits);
  if (!ip || !Number.isInteger(prefix) || prefix < 16 || prefix > 64)
    throw new Error(`"${cidr}" is not an IPv6 pool (a CIDR from /16 to /64)`);
  let base: bigint;
  try {
    base = ip6ToBigInt(ip);
  } catch {
    throw new Error(`"${cidr}" is not an IPv6 pool (a CIDR from /16 to /64)`);
  }
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix);
  return { base: base & mask, prefix };
}

/**
 * `count` /64s of the pool not in `used` (/64s), starting at a random block so that two runs
 * started together rarely try the same one first. Fewer when the pool is (nearly) full.
 */
export function freeSubnets6(
  pool: string,
  used: string[],
  count: number,
  random = Math.random,
): string[] {
  const { base, prefix } = parseCidr6(pool);
  const blocks = 2 ** Math.min(64 - prefix, 40);
  const start = Math.floor(random() * blocks);
  const taken = new Set(used.map((u) => parseCidr6(u.replace(/\/\d+$/, "/64")).base));
  const out: string[] = [];
  for (let k = 0; k < blocks && out.length < count; k++) {
    const net = base + (BigInt((start + k) % blocks) << 64n);
    if (!taken.has(net)) out.push(`${bigIntToIp6(net)}/64`);
  }
  return out;
}

/** Address `host` of a /64 (`::a` for 10). */
export function hostAddress6(subnet: string, host: number): string {
  return bigIntToIp6(parseCidr6(subnet).base + BigInt(host));
}

/** An IPv6 address (has a colon), as opposed to an IPv4 one. */
export function isIp6(address: string): boolean {
  return address.includes(":");
}
