import {
  authorizedReservation,
  createReservation,
  extendReservation,
  releaseReservation,
} from "../domain/sales/reservations";
import { readBody, readParam } from "../lib/validate";
import { admissionPass } from "../middleware/admission";
import { bearerToken } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { clientOf } from "../middleware/rate-limit";
import { idOf } from "../schemas/common";
import { ReservationInput } from "../schemas/reservations";
import { Reservation } from "./bodies";
import { operation, Routes } from "./operation";
import { reservationView } from "./views";

const params = { id: idOf("rsv") };

const hold = operation({
  method: "post",
  path: "/v1/events/:eventId/reservations",
  summary: "Hold tickets across tiers (all or nothing)",
  auth: "none",
  limit: "buyer",
  params: { eventId: idOf("evt") },
  body: ReservationInput,
  idempotent: true,
  admission: true,
  responses: { 201: { description: "The reservation, with its token", body: Reservation } },
  errors: [
    "TOO_MANY_TICKETS",
    "SOLD_OUT",
    "SEAT_UNAVAILABLE",
    "DUPLICATE_RESERVATION",
    "SALES_CLOSED",
    "ADMISSION_REQUIRED",
    "ADMISSION_INVALID",
    "BOT_CHECK_FAILED",
  ],
});

const read = operation({
  method: "get",
  path: "/v1/reservations/:id",
  summary: "A reservation",
  auth: "reservation",
  limit: "buyer",
  params,
  responses: { 200: { description: "The reservation", body: Reservation } },
});

const extend = operation({
  method: "post",
  path: "/v1/reservations/:id/extend",
  summary: "Extend the hold",
  auth: "reservation",
  limit: "buyer",
  params,
  responses: { 200: { description: "The reservation, with its new expiry", body: Reservation } },
  errors: ["EXTENSION_LIMIT", "RESERVATION_EXPIRED", "RESERVATION_NOT_ACTIVE"],
});

const release = operation({
  method: "delete",
  path: "/v1/reservations/:id",
  summary: "Release the hold (releasing again answers the same)",
  auth: "reservation",
  limit: "buyer",
  params,
  responses: { 200: { description: "The reservation, released", body: Reservation } },
  errors: ["RESERVATION_EXPIRED", "RESERVATION_NOT_ACTIVE"],
});

export const reservationRoutes = new Routes()
  .on(hold, admissionPass(), idempotency(), async (c) => {
    const eventId = readParam(c, "eventId", hold.params.eventId);
    const input = await readBody(c, hold.body);
    const seed = c.get("idempotencySeed");
    const credentials = {
      client: clientOf(c),
      remoteIp: c.req.header("CF-Connecting-IP") ?? null,
      pass: c.get("admissionPass"),
    };
    const { reservation, token } = await createReservation(
      c.env,
      c.get("db"),
      eventId,
      input,
      seed,
      credentials,
      auditContext(c),
    );
    return c.json(reservationView(reservation, Date.now(), token), 201);
  })
  .on(read, async (c) => {
    const row = await authorizedReservation(c.get("db"), readParam(c, "id", read.params.id), bearerToken(c));
    return c.json(reservationView(row, Date.now()));
  })
  .on(extend, async (c) => {
    const row = await authorizedReservation(c.get("db"), readParam(c, "id", extend.params.id), bearerToken(c));
    return c.json(reservationView(await extendReservation(c.env, row, auditContext(c)), Date.now()));
  })
  .on(release, async (c) => {
    const row = await authorizedReservation(c.get("db"), readParam(c, "id", release.params.id), bearerToken(c));
    return c.json(reservationView(await releaseReservation(c.env, row, auditContext(c)), Date.now()));
  });
