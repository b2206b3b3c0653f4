/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of the API. Request bodies and query strings are the
 * JSON Schemas of the very zod schemas the routes validate with (`z.toJSONSchema`), so they cannot
 * drift from the code; a test checks that every route the app serves is listed here, and no other.
 */
import { Hono } from "hono";
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "./lib/errors";
import { CheckinBatchInput, CheckinInput, CheckinListQuery } from "./schemas/checkins";
import { OrderListQuery } from "./schemas/event-orders";
import { EventInput, TierInput, TierPatch } from "./schemas/events";
import { CheckoutInput } from "./schemas/orders";
import { AuditQuery } from "./schemas/pagination";
import { RefundInput } from "./schemas/refunds";
import { ReservationInput } from "./schemas/reservations";
import { ScannerInput } from "./schemas/scanners";

type Auth = "organiser" | "reservation" | "order or organiser" | "scanner" | "scanner or organiser" | "stripe" | "none";

interface Operation {
  method: "get" | "post" | "patch" | "delete";
  /** Hono's form (`:id`); rendered as OpenAPI's `{id}`. */
  path: string;
  summary: string;
  auth: Auth;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The success status, and what it carries. */
  success: [number, string];
  /** Creates something: accepts `Idempotency-Key`. */
  idempotent?: boolean;
  errors?: ErrorCode[];
  /** A page for people (HTML or CSV), not JSON. */
  contentType?: string;
}

const AUTH_ERRORS: ErrorCode[] = ["UNAUTHORIZED"];

/** Every route of the API (API.md), with the schemas its handler validates. */
const OPERATIONS: readonly Operation[] = [
  { method: "get", path: "/healthz", summary: "Liveness", auth: "none", success: [200, "`{ ok: true }`"] },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    auth: "none",
    success: [200, "The OpenAPI 3.1 document"],
  },
  {
    method: "post",
    path: "/v1/events",
    summary: "Create an event with its tiers",
    auth: "organiser",
    body: EventInput,
    success: [201, "Event"],
    idempotent: true,
    errors: ["INVALID_INPUT", "INVALID_JSON"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId",
    summary: "An event with its tiers",
    auth: "none",
    success: [200, "Event"],
  },
  {
    method: "post",
    path: "/v1/events/:eventId/tiers",
    summary: "Add a tier",
    auth: "organiser",
    body: TierInput,
    success: [201, "Tier"],
    idempotent: true,
    errors: ["INVALID_INPUT"],
  },
  {
    method: "patch",
    path: "/v1/tiers/:tierId",
    summary: "Change a tier",
    auth: "organiser",
    body: TierPatch,
    success: [200, "Tier"],
    errors: ["INVALID_INPUT", "CAPACITY_BELOW_COMMITTED"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId/availability",
    summary: "Live availability per tier (and seat)",
    auth: "none",
    success: [200, "`{ tiers: [{ tierId, name, price, currency, capacity, available, status, seats? }] }`"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId/audit",
    summary: "The audit log, newest first",
    auth: "organiser",
    query: AuditQuery,
    success: [200, "`{ entries: AuditEntry[], nextCursor }`"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId/stats",
    summary: "Live numbers",
    auth: "organiser",
    success: [200, "Stats"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId/verify",
    summary: "The inventory invariants",
    auth: "organiser",
    success: [200, "`{ ok, checks: [{ name, ok, detail }] }`"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId/orders",
    summary: "Orders with their tickets, newest first",
    auth: "organiser",
    query: OrderListQuery,
    success: [200, "`{ orders: Order[], nextCursor }`"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId/attendees.csv",
    summary: "One CSV row per ticket",
    auth: "organiser",
    success: [200, "CSV: order_id,email,name,tier,seat,ticket_id,status,checked_in_at"],
    contentType: "text/csv",
  },
  {
    method: "post",
    path: "/v1/events/:eventId/reservations",
    summary: "Hold tickets across tiers (all or nothing)",
    auth: "none",
    body: ReservationInput,
    success: [201, "Reservation, with its `token`"],
    idempotent: true,
    errors: [
      "INVALID_INPUT",
      "TOO_MANY_TICKETS",
      "SOLD_OUT",
      "SEAT_UNAVAILABLE",
      "DUPLICATE_RESERVATION",
      "SALES_CLOSED",
    ],
  },
  {
    method: "get",
    path: "/v1/reservations/:id",
    summary: "A reservation",
    auth: "reservation",
    success: [200, "Reservation"],
  },
  {
    method: "post",
    path: "/v1/reservations/:id/extend",
    summary: "Extend the hold",
    auth: "reservation",
    success: [200, "Reservation"],
    errors: ["EXTENSION_LIMIT", "RESERVATION_EXPIRED", "RESERVATION_NOT_ACTIVE"],
  },
  {
    method: "delete",
    path: "/v1/reservations/:id",
    summary: "Release the hold",
    auth: "reservation",
    success: [200, "Reservation (`status: released`)"],
    errors: ["RESERVATION_EXPIRED", "RESERVATION_NOT_ACTIVE"],
  },
  {
    method: "post",
    path: "/v1/reservations/:id/checkout",
    summary: "Open the order and its Stripe Checkout Session",
    auth: "reservation",
    body: CheckoutInput,
    success: [
      201,
      "`{ orderId, orderToken, status, checkoutUrl, stripeSessionId, amount, currency }` (free: `tickets`)",
    ],
    idempotent: true,
    errors: ["INVALID_INPUT", "RESERVATION_EXPIRED", "RESERVATION_NOT_ACTIVE"],
  },
  {
    method: "get",
    path: "/v1/orders/:orderId",
    summary: "An order with its tickets",
    auth: "order or organiser",
    success: [200, "Order"],
  },
  {
    method: "post",
    path: "/v1/orders/:orderId/refunds",
    summary: "Refund all or some tickets of an order",
    auth: "organiser",
    body: RefundInput,
    success: [201, "Refund (`200` for the same refund asked again)"],
    idempotent: true,
    errors: ["INVALID_INPUT", "TICKET_VOID", "ORDER_NOT_PAID", "REFUND_FAILED"],
  },
  {
    method: "post",
    path: "/v1/webhooks/stripe",
    summary: "Stripe's events",
    auth: "stripe",
    success: [200, "`{ received: true }`"],
    errors: ["WEBHOOK_SIGNATURE_INVALID"],
  },
  {
    method: "post",
    path: "/v1/events/:eventId/scanners",
    summary: "Register a scanner device (its token is shown once)",
    auth: "organiser",
    body: ScannerInput,
    success: [201, "`{ id, eventId, name, gate, createdAt, revokedAt, token }`"],
    idempotent: true,
    errors: ["INVALID_INPUT"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId/scanners",
    summary: "The event's scanners (without tokens)",
    auth: "organiser",
    success: [200, "`{ scanners: [...] }`"],
  },
  {
    method: "delete",
    path: "/v1/scanners/:scannerId",
    summary: "Revoke a scanner",
    auth: "organiser",
    success: [204, "Revoked"],
  },
  {
    method: "post",
    path: "/v1/checkins",
    summary: "Check a ticket in (or out)",
    auth: "scanner",
    body: CheckinInput,
    success: [200, "`{ result: admitted|exited, ticket, checkedInAt | exitedAt, firstCheckedInAt }`"],
    errors: [
      "INVALID_TICKET_CODE",
      "TICKET_NOT_FOUND",
      "WRONG_EVENT",
      "TICKET_VOID",
      "ALREADY_CHECKED_IN",
      "NOT_CHECKED_IN",
    ],
  },
  {
    method: "post",
    path: "/v1/checkins/batch",
    summary: "Scans an offline scanner made",
    auth: "scanner",
    body: CheckinBatchInput,
    success: [200, "`{ results: [{ nonce, result, conflict, ticketId?, firstCheckedInAt? }] }`"],
    errors: ["INVALID_INPUT"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId/checkin-list",
    summary: "Tickets and their door status, for a scanner's offline cache",
    auth: "scanner or organiser",
    query: CheckinListQuery,
    success: [200, "`{ tickets: [{ id, tierId, seat?, status, updatedAt }], nextCursor }`"],
  },
  {
    method: "get",
    path: "/v1/events/:eventId/checkin-keys",
    summary: "The public keys that verify ticket codes offline",
    auth: "none",
    success: [200, "`{ keys: [{ kid, alg: Ed25519, publicKey }] }`"],
  },
  {
    method: "get",
    path: "/scan",
    summary: "The door page",
    auth: "none",
    success: [200, "HTML"],
    contentType: "text/html",
  },
  {
    method: "get",
    path: "/checkout/complete",
    summary: "Where Stripe returns a buyer who paid",
    auth: "none",
    success: [200, "HTML"],
    contentType: "text/html",
  },
  {
    method: "get",
    path: "/checkout/canceled",
    summary: "Where Stripe returns a buyer who cancelled",
    auth: "none",
    success: [200, "HTML"],
    contentType: "text/html",
  },
];

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  organiser: [{ organiser: [] }],
  reservation: [{ reservation: [] }],
  "order or organiser": [{ order: [] }, { organiser: [] }],
  scanner: [{ scanner: [] }],
  "scanner or organiser": [{ scanner: [] }, { organiser: [] }],
  stripe: [],
  none: [],
};

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });

const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

function operationObject(op: Operation) {
  const pathParams = [...op.path.matchAll(/:(\w+)/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  const query = op.query ? jsonSchema(op.query) : null;
  const queryParams = Object.entries((query?.properties ?? {}) as Record<string, unknown>).map(([name, schema]) => ({
    name,
    in: "query",
    required: ((query?.required ?? []) as string[]).includes(name),
    schema,
  }));
  const errors: ErrorCode[] = [
    ...(op.auth === "none" || op.auth === "stripe" ? [] : AUTH_ERRORS),
    ...(op.errors ?? []),
    ...(op.path.includes(":") ? (["NOT_FOUND"] as const) : []),
    "INTERNAL",
  ];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(errors))
    byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const [status, description] = op.success;
  return {
    summary: op.summary,
    security: SECURITY[op.auth],
    parameters: [
      ...pathParams,
      ...queryParams,
      ...(op.idempotent
        ? [{ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 255 } }]
        : []),
    ],
    ...(op.body
      ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.body) } } } }
      : {}),
    responses: {
      [status]: {
        description,
        ...(status === 204 ? {} : { content: { [op.contentType ?? "application/json"]: {} } }),
      },
      ...Object.fromEntries(
        [...byStatus].map(([s, codes]) => [
          s,
          {
            description: codes.join(", "),
            content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
          },
        ]),
      ),
    },
  };
}

/** The document; built once per isolate (the schemas do not change while it runs). */
let built: unknown = null;

function openApiDocument() {
  if (built) return built;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const path = openApiPath(op.path);
    paths[path] = { ...paths[path], [op.method]: operationObject(op) };
  }
  built = {
    openapi: "3.1.0",
    info: {
      title: "boxoffice",
      version: "1",
      description: "Event ticketing at the edge. The contract is API.md; this document is generated from the code.",
    },
    paths,
    components: {
      securitySchemes: {
        organiser: { type: "http", scheme: "bearer", description: "The deployment's ADMIN_TOKEN" },
        reservation: { type: "http", scheme: "bearer", description: "rsvtok_…, from the reservation" },
        order: { type: "http", scheme: "bearer", description: "ordtok_…, from checkout" },
        scanner: { type: "http", scheme: "bearer", description: "scntok_…, shown once when the scanner is created" },
      },
      schemas: {
        Problem: {
          type: "object",
          required: ["type", "title", "status", "code"],
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            code: { type: "string", enum: Object.keys(ERROR_STATUS) },
            detail: { type: "string" },
            errors: {
              type: "array",
              items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
            },
          },
          additionalProperties: true,
        },
      },
    },
  };
  return built;
}

export const openApiRoutes = new Hono<{ Bindings: Env }>().get("/openapi.json", (c) => c.json(openApiDocument()));
