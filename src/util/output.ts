/**
 * Report files: checked before anything runs, written whole or not at all.
 *
 * A run can take minutes; finding out at the end that `--json` names a missing directory loses
 * every result. So every output is checked first (exit 2, nothing created), and each report is
 * written to a temporary file beside it and renamed into place: an interrupt or a full disk
 * never leaves half a file under the name a CI step reads.
 */
import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UsageError } from "./errors.js";

function isDirectory(path: string): boolean | undefined {
  try {
    return statSync(path).isDirectory();
  } catch {
    return undefined;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why `file` cannot be written, or undefined when it can. */
export function fileProblem(file: string): string | undefined {
  const dir = dirname(resolve(file));
  if (isDirectory(file)) return `${file} is a directory`;
  if (isDirectory(dir) !== true) return `directory ${dirname(file)} does not exist`;
  if (!writable(dir)) return `directory ${dirname(file)} is not writable`;
  if (isDirectory(file) === false && !writable(file)) return `${file} is not writable`;
  return undefined;
}

/** Why directory `dir` (created when needed) cannot hold files, or undefined when it can. */
export function directoryProblem(dir: string): string | undefined {
  let path = resolve(dir);
  for (;;) {
    const kind = isDirectory(path);
    if (kind === false) return `${path} is not a directory`;
    if (kind === true) return writable(path) ? undefined : `${path} is not writable`;
    const parent = dirname(path);
    if (parent === path) return `${dir} cannot be created`;
    path = parent;
  }
}

/** Refuse, before anything runs, outputs that could not be written: `[flag, path]` pairs. */
export function checkOutputs(files: [string, string | undefined][], dirs: [string, string][] = []) {
  const problems = [
    ...files.flatMap(([flag, f]) =>
      f && fileProblem(f) ? [`${flag} ${f}: ${fileProblem(f)}`] : [],
    ),
    ...dirs.flatMap(([flag, d]) =>
      directoryProblem(d) ? [`${flag} ${d}: ${directoryProblem(d)}`] : [],
    ),
  ];
  if (problems.length > 0)
    throw new UsageError(`cannot write the results: ${problems.join("; ")} (nothing was run)`);
}

/** Write `data` to a temporary file beside `file`, then rename it into place. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
