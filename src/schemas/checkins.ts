import { z } from "zod";
import { instant } from "./common";
import { gate } from "./scanners";

/** Longer than any code this API signs, short enough that a junk code costs nothing to refuse. */
const code = z.string().min(1, "must not be empty").max(512, "must be at most 512 characters");
const direction = z.enum(["in", "out"]).default("in");

export const CheckinInput = z.strictObject({
  code,
  gate: gate.optional(),
  direction,
});
export type CheckinInput = z.infer<typeof CheckinInput>;

const MAX_BATCH_SCANS = 500;

const BatchScan = z.strictObject({
  nonce: z.string().regex(/^[\x21-\x7e]{1,128}$/, "must be 1-128 printable ASCII characters without spaces"),
  code,
  scannedAt: instant,
  gate: gate.optional(),
  direction,
});

export const CheckinBatchInput = z.strictObject({
  scans: z
    .array(BatchScan)
    .min(1, "must hold at least one scan")
    .max(MAX_BATCH_SCANS, `must hold at most ${MAX_BATCH_SCANS} scans`),
});
export type CheckinBatchInput = z.infer<typeof CheckinBatchInput>;

export const CheckinListQuery = z.strictObject({
  since: instant.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});
export type CheckinListQuery = z.infer<typeof CheckinListQuery>;
