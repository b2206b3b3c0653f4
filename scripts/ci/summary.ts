// Prints vitest's JSON results (one file per vitest project) as the plain "N passed, N failed" line CI reads.
import { readFileSync } from "node:fs";

interface Results {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
}

const files = process.argv.slice(2);
if (files.length === 0) throw new Error("usage: summary.ts <vitest-results.json>...");
const total: Results = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0 };
// A project that passed nothing ran nothing: that fails the run as surely as a failed test.
const empty: string[] = [];
for (const file of files) {
  const results = JSON.parse(readFileSync(file, "utf8")) as Results;
  if (results.numPassedTests === 0) empty.push(file);
  total.numPassedTests += results.numPassedTests;
  total.numFailedTests += results.numFailedTests;
  total.numPendingTests += results.numPendingTests;
}
console.log(`tests: ${total.numPassedTests} passed, ${total.numFailedTests} failed, ${total.numPendingTests} skipped`);
if (empty.length > 0) console.log(`no test passed in ${empty.join(", ")}`);
process.exit(total.numFailedTests === 0 && empty.length === 0 ? 0 : 1);
