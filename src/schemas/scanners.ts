import { z } from "zod";
import { label } from "./common";

export const gate = label(100);

export const ScannerInput = z.strictObject({
  name: label(100),
  gate: gate.optional(),
});
export type ScannerInput = z.infer<typeof ScannerInput>;
