import { Hono } from "hono";
import { attendeesCsv, listOrders } from "../domain/reports/event-orders";
import { readParam, readQuery } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { idOf } from "../schemas/common";
import { OrderListQuery } from "../schemas/event-orders";
import { orderView } from "./views";

const eventId = idOf("evt");

export const eventOrderRoutes = new Hono<{ Bindings: Env }>()
  .get("/v1/events/:eventId/orders", organiserOnly(), async (c) => {
    const id = readParam(c, "eventId", eventId);
    const { orders, nextCursor } = await listOrders(c.get("db"), id, readQuery(c, OrderListQuery));
    return c.json({ orders: orders.map((o) => orderView(o.order, o.tickets)), nextCursor });
  })
  .get("/v1/events/:eventId/attendees.csv", organiserOnly(), async (c) => {
    const id = readParam(c, "eventId", eventId);
    const body = await attendeesCsv(c.get("db"), id);
    return c.body(body, 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="attendees-${id}.csv"`,
      "Cache-Control": "no-store",
    });
  });
