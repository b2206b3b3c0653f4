import { Hono } from "hono";
import { authorizedOrder, checkout, orderWithTickets } from "../domain/orders";
import { authorizedReservation } from "../domain/reservations";
import { readBody, readParam } from "../lib/validate";
import { bearerToken, isOrganiser } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { CheckoutInput } from "../schemas/orders";

export const orderRoutes = new Hono<{ Bindings: Env }>()
  .post("/v1/reservations/:id/checkout", idempotency(), async (c) => {
    const reservation = await authorizedReservation(c.get("db"), readParam(c, "id", idOf("rsv")), bearerToken(c));
    const input = await readBody(c, CheckoutInput);
    const origin = new URL(c.req.url).origin;
    const { status, body } = await checkout(c.env, c.get("db"), reservation, input, origin, auditContext(c));
    return c.json(body, status);
  })
  .get("/v1/orders/:orderId", async (c) => {
    const token = bearerToken(c);
    const order = await authorizedOrder(
      c.get("db"),
      readParam(c, "orderId", idOf("ord")),
      token,
      await isOrganiser(c, token),
    );
    return c.json(await orderWithTickets(c.get("db"), order));
  });
