/** Moved to the public types; this path stays for the code. */
export * from "../model/tcp-states.js";
