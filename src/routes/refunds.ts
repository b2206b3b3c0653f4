import { Hono } from "hono";
import { refundOrder } from "../domain/sales/refunds";
import { readBody, readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { RefundInput } from "../schemas/refunds";
import { refundView } from "./views";

export const refundRoutes = new Hono<{ Bindings: Env }>().post(
  "/v1/orders/:orderId/refunds",
  organiserOnly(),
  idempotency(),
  async (c) => {
    const orderId = readParam(c, "orderId", idOf("ord"));
    const input = await readBody(c, RefundInput);
    const { refund, created } = await refundOrder(c.env, c.get("db"), orderId, input, auditContext(c));
    return c.json(refundView(refund), created ? 201 : 200);
  },
);
