import { refundOrder } from "../domain/sales/refunds";
import { readBody, readParam } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { RefundInput } from "../schemas/refunds";
import { Refund } from "./bodies";
import { operation, Routes } from "./operation";
import { refundView } from "./views";

const refund = operation({
  method: "post",
  path: "/v1/orders/:orderId/refunds",
  summary: "Refund all or some tickets of an order",
  auth: "organiser",
  params: { orderId: idOf("ord") },
  body: RefundInput,
  idempotent: true,
  responses: {
    201: { description: "The refund, made", body: Refund },
    200: { description: "The same refund, asked again", body: Refund },
  },
  errors: ["TICKET_VOID", "ORDER_NOT_PAID", "REFUND_FAILED"],
});

export const refundRoutes = new Routes().on(refund, organiserOnly(), idempotency(), async (c) => {
  const orderId = readParam(c, "orderId", refund.params.orderId);
  const input = await readBody(c, refund.body);
  const { refund: made, created } = await refundOrder(c.env, c.get("db"), orderId, input, auditContext(c));
  return c.json(refundView(made), created ? 201 : 200);
});
