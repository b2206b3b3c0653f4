/**
 * `GET /openapi.json`: the OpenAPI 3.1 document, assembled from the operations the route files declare
 * (src/routes/operation.ts). Request and response bodies are the JSON Schemas of the very zod schemas the
 * routes validate with and the views answer with (`z.toJSONSchema`), so they cannot drift from the code.
 * Besides each route's own refusals, the answers every route of a kind can give are added here, in one
 * place: a malformed id or query, a bad body, an idempotency conflict, a missing or foreign token, a fault.
 */
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "./lib/errors";
import { WEBHOOK_PAYLOADS } from "./routes/bodies";
import { type Auth, type Operation, operation, Routes } from "./routes/operation";
import { ADMISSION_HEADER } from "./schemas/queue";

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  organiser: [{ organiser: [] }],
  reservation: [{ reservation: [] }],
  "order or organiser": [{ order: [] }, { organiser: [] }],
  scanner: [{ scanner: [] }],
  "scanner or organiser": [{ scanner: [] }, { organiser: [] }],
  stripe: [],
  "queue entry": [{ queueEntry: [] }],
  "order link": [{ orderLink: [] }],
  none: [],
};

/** The refusals of who may call: no or a bad token (401), and another's token where a token names one thing (403). */
const AUTH_ERRORS: Record<Auth, ErrorCode[]> = {
  organiser: ["UNAUTHORIZED"],
  reservation: ["UNAUTHORIZED", "FORBIDDEN"],
  "order or organiser": ["UNAUTHORIZED", "FORBIDDEN"],
  scanner: ["UNAUTHORIZED"],
  "scanner or organiser": ["UNAUTHORIZED", "FORBIDDEN"],
  stripe: [],
  "queue entry": ["UNAUTHORIZED"],
  // A refused link is the page's own 404 page.
  "order link": [],
  none: [],
};

/** Every refusal an operation can answer: its own, and those of its kind. */
export function errorsOf(op: Operation): ErrorCode[] {
  // A page with its own 404 page answers a malformed or unknown id with it.
  const validates = !op.responses[404];
  return [
    ...new Set<ErrorCode>([
      ...AUTH_ERRORS[op.auth],
      ...((op.params || op.query) && validates ? (["INVALID_INPUT"] as const) : []),
      ...(op.params && validates ? (["NOT_FOUND"] as const) : []),
      ...(op.body ? (["INVALID_INPUT", "INVALID_JSON", "PAYLOAD_TOO_LARGE"] as const) : []),
      ...(op.idempotent ? (["INVALID_INPUT", "IDEMPOTENCY_KEY_IN_USE", "IDEMPOTENCY_KEY_REUSED"] as const) : []),
      ...(op.limit ? (["RATE_LIMITED"] as const) : []),
      ...(op.errors ?? []),
      "INTERNAL",
    ]),
  ];
}

const jsonSchema = (schema: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" });

const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

function parameters(op: Operation) {
  const path = [...op.path.matchAll(/:(\w+)/g)].map((m) => {
    const name = m[1] as string;
    const schema = op.params?.[name];
    return { name, in: "path", required: true, schema: schema ? jsonSchema(schema, "input") : { type: "string" } };
  });
  const query = op.query ? jsonSchema(op.query, "input") : null;
  const fromQuery = Object.entries((query?.properties ?? {}) as Record<string, unknown>).map(([name, schema]) => ({
    name,
    in: "query",
    required: ((query?.required ?? []) as string[]).includes(name),
    schema,
  }));
  const key = { name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 255 } };
  const pass = {
    name: ADMISSION_HEADER,
    in: "header",
    required: false,
    description: "The admission pass of the event's queue (required while the event has one)",
    schema: { type: "string" },
  };
  return [...path, ...fromQuery, ...(op.idempotent ? [key] : []), ...(op.admission ? [pass] : [])];
}

function operationObject(op: Operation) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorsOf(op)) {
    byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  }
  const successes = Object.entries(op.responses).map(([status, answer]) => [
    status,
    {
      description: answer.description,
      ...(answer.body
        ? { content: { "application/json": { schema: jsonSchema(answer.body, "output") } } }
        : answer.contentType
          ? { content: { [answer.contentType]: { schema: { type: "string" } } } }
          : {}),
    },
  ]);
  const problems = [...byStatus].map(([status, codes]) => [
    String(status),
    {
      description: codes.join(", "),
      content: {
        "application/problem+json": {
          schema: { allOf: [{ $ref: "#/components/schemas/Problem" }, { properties: { code: { enum: codes } } }] },
        },
      },
    },
  ]);
  return {
    summary: op.summary,
    ...(op.page ? { tags: ["pages"] } : {}),
    security: SECURITY[op.auth],
    parameters: parameters(op),
    ...(op.body
      ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.body, "input") } } } }
      : {}),
    responses: Object.fromEntries([...successes, ...problems]),
  };
}

const PROBLEM = {
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
      items: {
        type: "object",
        required: ["path", "message"],
        properties: { path: { type: "string" }, message: { type: "string" } },
      },
    },
  },
  additionalProperties: true,
};

/**
 * The messages sent to the organiser's systems (OpenAPI 3.1 `webhooks`), signed per Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`): each type's body.
 */
function webhooks() {
  return Object.fromEntries(
    Object.entries(WEBHOOK_PAYLOADS).map(([type, schema]) => [
      type,
      {
        post: {
          summary: `The ${type} message, POSTed to each endpoint subscribed to it`,
          requestBody: { required: true, content: { "application/json": { schema: jsonSchema(schema, "output") } } },
          responses: {
            "200": {
              description: "Any 2xx within 15 s is delivered; 410 disables the endpoint; anything else is retried",
            },
          },
        },
      },
    ]),
  );
}

export function openApiDocument(operations: readonly Operation[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const path = openApiPath(op.path);
    paths[path] = { ...paths[path], [op.method]: operationObject(op) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "boxoffice",
      version: "1",
      description:
        "Event ticketing at the edge. The contract and the choices made where it is silent are docs/api.md; " +
        "this document is generated from the code. Operations tagged `pages` are pages for people, not JSON.",
    },
    tags: [
      {
        name: "pages",
        description:
          "Pages for people: the shop, the buyer's tickets page, the dashboard, the door page and Stripe's return pages",
      },
    ],
    paths,
    webhooks: webhooks(),
    components: {
      securitySchemes: {
        organiser: { type: "http", scheme: "bearer", description: "The deployment's ADMIN_TOKEN" },
        reservation: { type: "http", scheme: "bearer", description: "rsvtok_…, from the reservation" },
        order: { type: "http", scheme: "bearer", description: "ordtok_…, from checkout" },
        scanner: { type: "http", scheme: "bearer", description: "scntok_…, shown once when the scanner is created" },
        queueEntry: { type: "http", scheme: "bearer", description: "qentok_…, from joining the queue" },
        orderLink: { type: "apiKey", in: "query", name: "t", description: "ordtok_…, the order token from checkout" },
      },
      schemas: { Problem: PROBLEM },
    },
  };
}

const thisDocument = operation({
  method: "get",
  path: "/openapi.json",
  summary: "This document",
  auth: "none",
  responses: { 200: { description: "The OpenAPI 3.1 document", body: z.record(z.string(), z.unknown()) } },
});

/** The route serving the document of `operations` (and of itself); built once per isolate. */
export function openApiRoutes(operations: readonly Operation[]): Routes {
  let built: ReturnType<typeof openApiDocument> | null = null;
  return new Routes().on(thisDocument, (c) => {
    built ??= openApiDocument([...operations, thisDocument]);
    return c.json(built);
  });
}
