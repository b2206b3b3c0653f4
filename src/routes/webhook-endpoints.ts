import { listDeliveries, retryDelivery } from "../domain/webhooks/deliveries";
import { createEndpoint, deleteEndpoint, listEndpoints } from "../domain/webhooks/endpoints";
import { readBody, readParam, readQuery } from "../lib/validate";
import { organiserOnly } from "../middleware/auth";
import { auditContext } from "../middleware/context";
import { idempotency } from "../middleware/idempotency";
import { idOf } from "../schemas/common";
import { DeliveryQuery, EndpointInput } from "../schemas/webhooks";
import { NewWebhookEndpoint, WebhookDelivery, WebhookDeliveryPage, WebhookEndpointList } from "./bodies";
import { operation, Routes } from "./operation";
import { webhookDeliveryView, webhookEndpointView } from "./views";

const endpoint = { endpointId: idOf("whe") };

const create = operation({
  method: "post",
  path: "/v1/webhook-endpoints",
  summary: "Register an endpoint of the organiser's systems for signed webhooks (its secret is shown once)",
  auth: "organiser",
  body: EndpointInput,
  idempotent: true,
  responses: { 201: { description: "The endpoint, with its signing secret", body: NewWebhookEndpoint } },
});

const list = operation({
  method: "get",
  path: "/v1/webhook-endpoints",
  summary: "The webhook endpoints (without secrets), disabled ones included",
  auth: "organiser",
  responses: { 200: { description: "The endpoints", body: WebhookEndpointList } },
});

const remove = operation({
  method: "delete",
  path: "/v1/webhook-endpoints/:endpointId",
  summary: "Delete an endpoint: it gets nothing more",
  auth: "organiser",
  params: endpoint,
  responses: { 204: { description: "Deleted (or deleted before)" } },
});

const deliveries = operation({
  method: "get",
  path: "/v1/webhook-endpoints/:endpointId/deliveries",
  summary: "An endpoint's deliveries, newest first",
  auth: "organiser",
  params: endpoint,
  query: DeliveryQuery,
  responses: { 200: { description: "A page of deliveries", body: WebhookDeliveryPage } },
});

const retry = operation({
  method: "post",
  path: "/v1/webhook-endpoints/:endpointId/deliveries/:deliveryId/retry",
  summary: "Queue a delivery again, for an attempt now",
  auth: "organiser",
  params: { ...endpoint, deliveryId: idOf("whd") },
  responses: { 202: { description: "The delivery, queued again", body: WebhookDelivery } },
  errors: ["ALREADY_DELIVERED", "ENDPOINT_DISABLED"],
});

export const webhookEndpointRoutes = new Routes()
  .on(create, organiserOnly(), idempotency(), async (c) => {
    const input = await readBody(c, create.body);
    const made = await createEndpoint(c.env, c.get("db"), input, c.get("idempotencySeed"), auditContext(c));
    return c.json({ ...webhookEndpointView(made.endpoint), secret: made.secret }, 201);
  })
  .on(list, organiserOnly(), async (c) => {
    return c.json({ endpoints: (await listEndpoints(c.get("db"))).map(webhookEndpointView) });
  })
  .on(remove, organiserOnly(), async (c) => {
    await deleteEndpoint(c.get("db"), readParam(c, "endpointId", remove.params.endpointId), auditContext(c));
    return c.body(null, 204);
  })
  .on(deliveries, organiserOnly(), async (c) => {
    const id = readParam(c, "endpointId", deliveries.params.endpointId);
    const page = await listDeliveries(c.get("db"), id, readQuery(c, deliveries.query));
    return c.json({ deliveries: page.deliveries.map(webhookDeliveryView), nextCursor: page.nextCursor });
  })
  .on(retry, organiserOnly(), async (c) => {
    const endpointId = readParam(c, "endpointId", retry.params.endpointId);
    const deliveryId = readParam(c, "deliveryId", retry.params.deliveryId);
    return c.json(webhookDeliveryView(await retryDelivery(c.env, c.get("db"), endpointId, deliveryId)), 202);
  });
