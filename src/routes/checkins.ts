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
import { Checkin, CheckinBatch, CheckinKeys, CheckinList } from "./bodies";
import { operation, Routes } from "./operation";
import { checkinView } from "./views";

const params = { eventId: idOf("evt") };

const online = operation({
  method: "post",
  path: "/v1/checkins",
  summary: "Check a ticket in (or out)",
  auth: "scanner",
  limit: "scanner",
  body: CheckinInput,
  responses: { 200: { description: "Admitted or exited", body: Checkin } },
  errors: [
    "INVALID_TICKET_CODE",
    "TICKET_NOT_FOUND",
    "WRONG_EVENT",
    "TICKET_VOID",
    "ALREADY_CHECKED_IN",
    "NOT_CHECKED_IN",
  ],
});

const batch = operation({
  method: "post",
  path: "/v1/checkins/batch",
  summary: "The scans an offline scanner made, replayed in scan order",
  auth: "scanner",
  limit: "scanner",
  body: CheckinBatchInput,
  responses: { 200: { description: "One result per scan", body: CheckinBatch } },
});

const list = operation({
  method: "get",
  path: "/v1/events/:eventId/checkin-list",
  summary: "Tickets and their door status, for a scanner's offline cache",
  auth: "scanner or organiser",
  limit: "scanner",
  params,
  query: CheckinListQuery,
  responses: { 200: { description: "A page of tickets, oldest change first", body: CheckinList } },
});

const keys = operation({
  method: "get",
  path: "/v1/events/:eventId/checkin-keys",
  summary: "The public keys that verify ticket codes offline",
  auth: "none",
  limit: "scanner",
  params,
  responses: { 200: { description: "The keys, the current one first", body: CheckinKeys } },
});

/** The scanner routes: online and offline check-in, and what a scanner caches to work offline. */
export const checkinRoutes = new Routes()
  .on(online, async (c) => {
    // The token is read, not yet looked up: the check-in proves it in the same statement that admits.
    const credential = await scannerCredential(bearerToken(c));
    const input = await readBody(c, online.body);
    return c.json(checkinView(await checkIn(c.env, c.get("db"), credential, input, auditContext(c))));
  })
  .on(batch, async (c) => {
    const scanner = await authenticateScanner(c.get("db"), await scannerCredential(bearerToken(c)));
    const input = await readBody(c, batch.body);
    return c.json(await checkInBatch(c.env, c.get("db"), scanner, input, auditContext(c)));
  })
  .on(list, async (c) => {
    const id = readParam(c, "eventId", list.params.eventId);
    const token = bearerToken(c);
    if (await isOrganiser(c, token)) await findEvent(c.get("db"), id);
    else requireScannerOf(await authenticateScanner(c.get("db"), await scannerCredential(token)), id);
    return c.json(await checkinList(c.get("db"), id, readQuery(c, list.query)));
  })
  // Public: the keys that verify ticket codes offline are not secrets.
  .on(keys, async (c) => {
    const id = readParam(c, "eventId", keys.params.eventId);
    const [, found] = await Promise.all([findEvent(c.get("db"), id), publicTicketKeys(c.env)]);
    return c.json({ keys: found });
  });
