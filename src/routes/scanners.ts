import { Hono } from "hono";
import { createScanner, listScanners, revokeScanner } from "../domain/door/scanners";
import { readBody, readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { ScannerInput } from "../schemas/scanners";
import { scannerView } from "./views";

const eventId = idOf("evt");

export const scannerRoutes = new Hono<{ Bindings: Env }>()
  .post("/v1/events/:eventId/scanners", organiserOnly(), idempotency(), async (c) => {
    const id = readParam(c, "eventId", eventId);
    const input = await readBody(c, ScannerInput);
    const { scanner, token } = await createScanner(c.get("db"), id, input, c.get("idempotencySeed"), auditContext(c));
    return c.json({ ...scannerView(scanner), token }, 201);
  })
  .get("/v1/events/:eventId/scanners", organiserOnly(), async (c) => {
    const scanners = await listScanners(c.get("db"), readParam(c, "eventId", eventId));
    return c.json({ scanners: scanners.map(scannerView) });
  })
  .delete("/v1/scanners/:scannerId", organiserOnly(), async (c) => {
    await revokeScanner(c.get("db"), readParam(c, "scannerId", idOf("scn")), auditContext(c));
    return c.body(null, 204);
  });
