/** The event types are public: they live in src/model/events.ts. */
export type * from "../model/events.js";
