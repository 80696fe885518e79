/** Where the project lives and what it calls itself: read once from its package.json. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's root: the nearest directory above this module whose package.json is
 * tcprepro's. The sources, dist/ and the CLI bundle (dist/tcprepro.js) sit at different depths
 * below it.
 */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file) && /"name":\s*"tcprepro"/.test(readFileSync(file, "utf8"))) return dir;
  }
  return resolve(here, "../..");
}

export const PROJECT_ROOT = packageRoot();

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
  version: string;
};

/** tcprepro's version, as package.json says. */
export const VERSION = pkg.version;
