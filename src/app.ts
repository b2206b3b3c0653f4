import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { ApiError } from "./lib/errors";
import { internalProblem, problem } from "./lib/problem";
import { requestContext } from "./middleware/context";
import { openApiRoutes } from "./openapi";
import { checkoutPages } from "./pages/checkout-return";
import { dashboardPage } from "./pages/dashboard/page";
import { scanPage } from "./pages/scan/page";
import { shopPages } from "./pages/shop/page";
import { simulatorRoutes } from "./pages/simulator-checkout";
import { ticketsPages } from "./pages/tickets/page";
import { auditRoutes } from "./routes/audit";
import { availabilityRoutes } from "./routes/availability";
import { checkinRoutes } from "./routes/checkins";
import { devMailRoutes } from "./routes/dev-mail";
import { eventOrderRoutes } from "./routes/event-orders";
import { eventRoutes } from "./routes/events";
import { health } from "./routes/health";
import type { Routes } from "./routes/operation";
import { orderRoutes } from "./routes/orders";
import { organiserReportRoutes } from "./routes/organiser-reports";
import { queueRoutes } from "./routes/queue";
import { refundRoutes } from "./routes/refunds";
import { reservationRoutes } from "./routes/reservations";
import { scannerRoutes } from "./routes/scanners";
import { tierRoutes } from "./routes/tiers";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints";
import { webhookRoutes } from "./routes/webhooks";

const MAX_BODY_BYTES = 64 * 1024;
/** Stripe's events are larger than any request of ours; refusing one it sent would make it retry for days. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;
/** 500 offline scans (docs/api.md's batch limit) take about 125 KiB, more than the general limit. */
const MAX_BATCH_BYTES = 256 * 1024;

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError("PAYLOAD_TOO_LARGE", `The request body is larger than ${maxSize} bytes`);
    },
  });
const apiBodyLimit = limit(MAX_BODY_BYTES);
const largerBodyLimits: Record<string, MiddlewareHandler> = {
  "/v1/webhooks/stripe": limit(MAX_WEBHOOK_BYTES),
  "/v1/checkins/batch": limit(MAX_BATCH_BYTES),
};

function allowedOrigin(origin: string, allowed: string): string | null {
  const list = allowed
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  if (list.includes("*")) return origin || "*";
  return list.includes(origin) ? origin : null;
}

export const app = new Hono<{ Bindings: Env }>();

app
  .use(requestContext())
  .use(
    "/v1/*",
    cors({
      origin: (origin, c) => allowedOrigin(origin, c.env.ALLOWED_ORIGINS),
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "Boxoffice-Admission"],
      allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
      exposeHeaders: ["X-Request-Id", "Idempotent-Replayed", "Retry-After", "ETag"],
      maxAge: 600,
    }),
  )
  .use((c, next) => (largerBodyLimits[c.req.path] ?? apiBodyLimit)(c, next));

/** Every route of the service, each an operation of the OpenAPI document. */
const ROUTES: readonly Routes[] = [
  health,
  checkoutPages,
  scanPage,
  ticketsPages,
  shopPages,
  dashboardPage,
  eventRoutes,
  tierRoutes,
  availabilityRoutes,
  auditRoutes,
  queueRoutes,
  reservationRoutes,
  orderRoutes,
  refundRoutes,
  eventOrderRoutes,
  organiserReportRoutes,
  webhookRoutes,
  webhookEndpointRoutes,
  scannerRoutes,
  checkinRoutes,
  devMailRoutes,
];
for (const routes of [...ROUTES, openApiRoutes(ROUTES.flatMap((r) => r.operations))]) app.route("/", routes.app);

app
  .notFound((c) => problem(c, new ApiError("NOT_FOUND", `No route ${c.req.method} ${c.req.path}`)))
  .onError((error, c) =>
    error instanceof ApiError ? problem(c, error) : internalProblem(c, error, c.get("requestId")),
  );

// The Stripe simulator (STRIPE_MODE=simulator only) delivers its webhooks back through this app.
app.route(
  "/",
  simulatorRoutes((request, env, ctx) => app.fetch(request, env, ctx)),
);
