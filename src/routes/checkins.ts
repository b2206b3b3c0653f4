import { Hono } from "hono";
import { findEvent } from "../domain/catalog/events";
import { checkInBatch } from "../domain/door/batch";
import { checkIn } from "../domain/door/check-in";
import { checkinList } from "../domain/door/list";
import { authenticateScanner, requireScannerOf, scannerCredential } from "../domain/door/scanners";
import { publicTicketKeys } from "../lib/ticket-codes";
import { readBody, readParam, readQuery } from "../lib/validate";
import { bearerToken, isOrganiser } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { CheckinBatchInput, CheckinInput, CheckinListQuery } from "../schemas/checkins";
import { idOf } from "../schemas/common";
import { checkinView } from "./views";

const eventId = idOf("evt");

/** The scanner routes of API.md: online and offline check-in, and what a scanner caches to work offline. */
export const checkinRoutes = new Hono<{ Bindings: Env }>()
  .post("/v1/checkins", async (c) => {
    // The token is read, not yet looked up: the check-in proves it in the same statement that admits.
    const credential = await scannerCredential(bearerToken(c));
    const input = await readBody(c, CheckinInput);
    return c.json(checkinView(await checkIn(c.env, c.get("db"), credential, input, auditContext(c))));
  })
  .post("/v1/checkins/batch", async (c) => {
    const scanner = await authenticateScanner(c.get("db"), await scannerCredential(bearerToken(c)));
    const input = await readBody(c, CheckinBatchInput);
    return c.json(await checkInBatch(c.env, c.get("db"), scanner, input, auditContext(c)));
  })
  .get("/v1/events/:eventId/checkin-list", async (c) => {
    const id = readParam(c, "eventId", eventId);
    const token = bearerToken(c);
    if (await isOrganiser(c, token)) await findEvent(c.get("db"), id);
    else requireScannerOf(await authenticateScanner(c.get("db"), await scannerCredential(token)), id);
    return c.json(await checkinList(c.get("db"), id, readQuery(c, CheckinListQuery)));
  })
  // Public: the keys that verify ticket codes offline are not secrets.
  .get("/v1/events/:eventId/checkin-keys", async (c) => {
    const id = readParam(c, "eventId", eventId);
    const [, keys] = await Promise.all([findEvent(c.get("db"), id), publicTicketKeys(c.env)]);
    return c.json({ keys });
  });
