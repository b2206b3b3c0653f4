import { Hono } from "hono";
import { authorizedOrder, checkout, ticketsOfOrder } from "../domain/sales/orders";
import { authorizedReservation } from "../domain/sales/reservations";
import { readBody, readParam } from "../lib/validate";
import { bearerToken, isOrganiser } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { CheckoutInput } from "../schemas/orders";
import { checkoutView, orderView } from "./views";

export const orderRoutes = new Hono<{ Bindings: Env }>()
  .post("/v1/reservations/:id/checkout", idempotency(), async (c) => {
    const reservation = await authorizedReservation(c.get("db"), readParam(c, "id", idOf("rsv")), bearerToken(c));
    const input = await readBody(c, CheckoutInput);
    const origin = new URL(c.req.url).origin;
    const checkedOut = await checkout(c.env, c.get("db"), reservation, input, origin, auditContext(c));
    return c.json(checkoutView(checkedOut), checkedOut.created ? 201 : 200);
  })
  .get("/v1/orders/:orderId", async (c) => {
    const token = bearerToken(c);
    const order = await authorizedOrder(
      c.get("db"),
      readParam(c, "orderId", idOf("ord")),
      token,
      await isOrganiser(c, token),
    );
    return c.json(orderView(order, await ticketsOfOrder(c.get("db"), order.id)));
  });
