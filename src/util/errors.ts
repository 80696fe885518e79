/** The errors live in the public types (src/model/errors.ts); this path stays for the code. */
export * from "../model/errors.js";
