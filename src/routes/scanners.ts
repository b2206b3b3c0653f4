import { createScanner, listScanners, revokeScanner } from "../domain/door/scanners";
import { readBody, readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { ScannerInput } from "../schemas/scanners";
import { NewScanner, ScannerList } from "./bodies";
import { operation, Routes } from "./operation";
import { scannerView } from "./views";

const params = { eventId: idOf("evt") };

const register = operation({
  method: "post",
  path: "/v1/events/:eventId/scanners",
  summary: "Register a scanner device (its token is shown once)",
  auth: "organiser",
  params,
  body: ScannerInput,
  idempotent: true,
  responses: { 201: { description: "The scanner, with its token", body: NewScanner } },
});

const list = operation({
  method: "get",
  path: "/v1/events/:eventId/scanners",
  summary: "The event's scanners (without tokens)",
  auth: "organiser",
  params,
  responses: { 200: { description: "The scanners", body: ScannerList } },
});

const revoke = operation({
  method: "delete",
  path: "/v1/scanners/:scannerId",
  summary: "Revoke a scanner (its token is refused from then on)",
  auth: "organiser",
  params: { scannerId: idOf("scn") },
  responses: { 204: { description: "Revoked" } },
});

export const scannerRoutes = new Routes()
  .on(register, organiserOnly(), idempotency(), async (c) => {
    const id = readParam(c, "eventId", register.params.eventId);
    const input = await readBody(c, register.body);
    const { scanner, token } = await createScanner(c.get("db"), id, input, c.get("idempotencySeed"), auditContext(c));
    return c.json({ ...scannerView(scanner), token }, 201);
  })
  .on(list, organiserOnly(), async (c) => {
    const scanners = await listScanners(c.get("db"), readParam(c, "eventId", list.params.eventId));
    return c.json({ scanners: scanners.map(scannerView) });
  })
  .on(revoke, organiserOnly(), async (c) => {
    await revokeScanner(c.get("db"), readParam(c, "scannerId", revoke.params.scannerId), auditContext(c));
    return c.body(null, 204);
  });
