// Prints vitest's JSON results as the plain "N passed, N failed" line CI reads.
import { readFileSync } from "node:fs";

const file = process.argv[2];
if (!file) throw new Error("usage: summary.ts <vitest-results.json>");
const results = JSON.parse(readFileSync(file, "utf8")) as {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
};
console.log(
  `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`,
);
process.exit(results.numFailedTests === 0 && results.numPassedTests > 0 ? 0 : 1);
