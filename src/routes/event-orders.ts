import { attendeesCsv, listOrders } from "../domain/reports/event-orders";
import { readParam, readQuery } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { idOf } from "../schemas/common";
import { OrderListQuery } from "../schemas/event-orders";
import { OrderPage } from "./bodies";
import { operation, Routes } from "./operation";
import { orderView } from "./views";

const params = { eventId: idOf("evt") };

const list = operation({
  method: "get",
  path: "/v1/events/:eventId/orders",
  summary: "Orders with their tickets, newest first",
  auth: "organiser",
  params,
  query: OrderListQuery,
  responses: { 200: { description: "A page of orders", body: OrderPage } },
});

const attendees = operation({
  method: "get",
  path: "/v1/events/:eventId/attendees.csv",
  summary: "One CSV row per ticket: order_id,email,name,tier,seat,ticket_id,status,checked_in_at",
  auth: "organiser",
  params,
  responses: { 200: { description: "The attendee list", contentType: "text/csv" } },
});

export const eventOrderRoutes = new Routes()
  .on(list, organiserOnly(), async (c) => {
    const id = readParam(c, "eventId", list.params.eventId);
    const { orders, nextCursor } = await listOrders(c.get("db"), id, readQuery(c, list.query));
    return c.json({ orders: orders.map((o) => orderView(o.order, o.tickets)), nextCursor });
  })
  .on(attendees, organiserOnly(), async (c) => {
    const id = readParam(c, "eventId", attendees.params.eventId);
    const body = await attendeesCsv(c.get("db"), id);
    return c.body(body, 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="attendees-${id}.csv"`,
      "Cache-Control": "no-store",
    });
  });
