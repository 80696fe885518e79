/** Errors of the diagnosis: in the one errors module (src/model/errors.ts). */
export { DumpError } from "../model/errors.js";
