import { Hono } from "hono";
import { findEvent } from "../domain/events";
import { publicTicketKeys } from "../lib/ticket-codes";
import { readParam } from "../lib/validate";
import { idOf } from "../schemas/common";

/** The public keys a scanner needs to verify ticket codes offline (public: they are not secrets). */
export const checkinKeyRoutes = new Hono<{ Bindings: Env }>().get("/v1/events/:eventId/checkin-keys", async (c) => {
  const eventId = readParam(c, "eventId", idOf("evt"));
  const [, keys] = await Promise.all([findEvent(c.get("db"), eventId), publicTicketKeys(c.env)]);
  return c.json({ keys });
});
