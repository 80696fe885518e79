/** The evidence types are public: they live in src/model/evidence.ts. */
export type * from "../model/evidence.js";
