/** The report types are public: they live in src/model/report.ts. */
export * from "../model/report.js";
