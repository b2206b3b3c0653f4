import { resendTicketEmail } from "../domain/mail/ticket-emails";
import { authorizedOrder, authorizedOrderWithTickets, checkout } from "../domain/sales/orders";
import { authorizedReservation } from "../domain/sales/reservations";
import { readBody, readParam } from "../lib/validate";
import { bearerToken, isOrganiser } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { CheckoutInput } from "../schemas/orders";
import { Checkout, Order, TicketEmail } from "./bodies";
import { operation, Routes } from "./operation";
import { checkoutView, orderView, ticketEmailView } from "./views";

const open = operation({
  method: "post",
  path: "/v1/reservations/:id/checkout",
  summary: "Open the order and its Stripe Checkout Session (a free order is paid at once)",
  auth: "reservation",
  limit: "buyer",
  params: { id: idOf("rsv") },
  body: CheckoutInput,
  idempotent: true,
  responses: {
    201: { description: "The order, opened", body: Checkout },
    200: { description: "The same order, asked again", body: Checkout },
  },
  errors: ["RESERVATION_EXPIRED", "RESERVATION_NOT_ACTIVE", "SOLD_OUT", "SEAT_UNAVAILABLE"],
});

const read = operation({
  method: "get",
  path: "/v1/orders/:orderId",
  summary: "An order with its tickets",
  auth: "order or organiser",
  limit: "buyer",
  params: { orderId: idOf("ord") },
  responses: { 200: { description: "The order", body: Order } },
});

const resend = operation({
  method: "post",
  path: "/v1/orders/:orderId/resend",
  summary: "Send the ticket e-mail again, to the order's address",
  auth: "order or organiser",
  limit: "buyer",
  params: { orderId: idOf("ord") },
  idempotent: true,
  responses: { 202: { description: "The e-mail, queued to be sent", body: TicketEmail } },
  errors: ["ORDER_NOT_PAID"],
});

export const orderRoutes = new Routes()
  .on(open, idempotency(), async (c) => {
    const reservation = await authorizedReservation(c.get("db"), readParam(c, "id", open.params.id), bearerToken(c));
    const input = await readBody(c, open.body);
    const origin = new URL(c.req.url).origin;
    const checkedOut = await checkout(c.env, c.get("db"), reservation, input, origin, auditContext(c));
    return c.json(checkoutView(checkedOut), checkedOut.created ? 201 : 200);
  })
  .on(read, async (c) => {
    const token = bearerToken(c);
    const { order, tickets } = await authorizedOrderWithTickets(
      c.get("db"),
      readParam(c, "orderId", read.params.orderId),
      token,
      await isOrganiser(c, token),
    );
    return c.json(orderView(order, tickets));
  })
  .on(resend, idempotency(), async (c) => {
    const token = bearerToken(c);
    const organiser = await isOrganiser(c, token);
    const db = c.get("db");
    const order = await authorizedOrder(db, readParam(c, "orderId", resend.params.orderId), token, organiser);
    const seed = c.get("idempotencySeed");
    const email = await resendTicketEmail(c.env, db, order, seed, organiser ? "organiser" : "buyer");
    return c.json(ticketEmailView(email), 202);
  });
