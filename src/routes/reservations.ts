import { Hono } from "hono";
import {
  authorizedReservation,
  createReservation,
  extendReservation,
  releaseReservation,
} from "../domain/sales/reservations";
import { readBody, readParam } from "../lib/validate";
import { bearerToken } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { ReservationInput } from "../schemas/reservations";
import { reservationView } from "./views";

const reservationId = idOf("rsv");

export const reservationRoutes = new Hono<{ Bindings: Env }>()
  .post("/v1/events/:eventId/reservations", idempotency(), async (c) => {
    const eventId = readParam(c, "eventId", idOf("evt"));
    const input = await readBody(c, ReservationInput);
    const seed = c.get("idempotencySeed");
    const { reservation, token } = await createReservation(c.env, c.get("db"), eventId, input, seed, auditContext(c));
    return c.json(reservationView(reservation, Date.now(), token), 201);
  })
  .get("/v1/reservations/:id", async (c) => {
    const row = await authorizedReservation(c.get("db"), readParam(c, "id", reservationId), bearerToken(c));
    return c.json(reservationView(row, Date.now()));
  })
  .post("/v1/reservations/:id/extend", async (c) => {
    const row = await authorizedReservation(c.get("db"), readParam(c, "id", reservationId), bearerToken(c));
    return c.json(reservationView(await extendReservation(c.env, row, auditContext(c)), Date.now()));
  })
  .delete("/v1/reservations/:id", async (c) => {
    const row = await authorizedReservation(c.get("db"), readParam(c, "id", reservationId), bearerToken(c));
    return c.json(reservationView(await releaseReservation(c.env, row, auditContext(c)), Date.now()));
  });
