/** The `tcprepro` command. One file per subcommand; errors map to exit codes here only. */
import { Command, CommanderError } from "commander";
import { exitCodeFor, ScenarioError } from "../util/errors.js";
import { registerClean } from "./clean.js";
import { registerCompare } from "./compare.js";
import { registerCompose } from "./compose.js";
import { registerDiagnose } from "./diagnose.js";
import { registerDoctor } from "./doctor.js";
import { registerImages } from "./images.js";
import { VERSION } from "../util/project.js";
import { registerKernels } from "./kernels.js";
import { registerLab } from "./lab.js";
import { registerList } from "./list.js";
import { registerMerge } from "./merge.js";
import { registerRun } from "./run.js";
import { registerScenario } from "./scenario.js";
import { registerSchema } from "./schema.js";
import { registerSetup } from "./setup.js";
import { registerSnapshot } from "./snapshot.js";
import { registerValidate } from "./validate.js";

const program = new Command("tcprepro")
  .description("Reproduce Linux TCP-stack failures on the real kernel and say why they happened")
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError();

registerRun(program);
registerValidate(program);
registerList(program);
registerDiagnose(program);
registerSnapshot(program);
registerScenario(program);
registerCompare(program);
registerMerge(program);
registerSetup(program);
registerDoctor(program);
registerImages(program);
registerKernels(program);
registerCompose(program);
registerLab(program);
registerClean(program);
registerSchema(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const prefix = err instanceof ScenarioError ? "invalid scenario:\n" : "error: ";
    process.stderr.write(prefix + (err instanceof Error ? err.message : String(err)) + "\n");
    process.exitCode = exitCodeFor(err);
  }
}
