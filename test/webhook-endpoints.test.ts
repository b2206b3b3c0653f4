/**
 * The webhook-endpoint routes: create (secret shown once, sealed at rest), list, delete, deliveries,
 * retry; the URL rules; and every bad input of every new route, each answered as problem+json with the
 * field, changing nothing.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "../src/lib/webhook-url";
import { ADMIN_TOKEN, api } from "./helpers";
import { RECEIVER_URL } from "./receiver";
import { count, endpointAudit, newEndpoint } from "./webhooks";

const admin = { token: ADMIN_TOKEN };
const unknownEndpoint = "whe_0000000000000000000000";
const unknownDelivery = "whd_0000000000000000000000";

/** Everything the webhook routes can change, to compare before and after a refused request. */
async function snapshot() {
  return {
    endpoints: await count("SELECT COUNT(*) AS n FROM webhook_endpoints"),
    live: await count("SELECT COUNT(*) AS n FROM webhook_endpoints WHERE deleted_at IS NULL"),
    deliveries: await count("SELECT COUNT(*) AS n FROM webhook_deliveries"),
    pending: await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'"),
    audit: await count("SELECT COUNT(*) AS n FROM audit_log WHERE event_id = ''"),
  };
}

describe("creating, listing and deleting endpoints", () => {
  it("POST answers 201 with a whsec_ secret shown once; it is stored sealed; the list has no secrets; audited", async () => {
    const res = await api("POST", "/v1/webhook-endpoints", {
      ...admin,
      body: { url: `${RECEIVER_URL}/created`, events: ["order.paid", "order.refunded"], description: "CRM" },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      url: `${RECEIVER_URL}/created`,
      events: ["order.paid", "order.refunded"],
      description: "CRM",
      disabledAt: null,
    });
    expect(res.body.id).toMatch(/^whe_[0-9A-Za-z]{22}$/);
    const secret = res.body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice("whsec_".length))).toHaveLength(32);
    // Sealed at rest: the database does not hold the secret.
    const stored = await env.DB.prepare("SELECT secret_sealed FROM webhook_endpoints WHERE id = ?")
      .bind(res.body.id)
      .first<{ secret_sealed: string }>();
    expect(stored?.secret_sealed).not.toContain(secret.slice(6, 20));

    const defaults = await newEndpoint();
    expect(defaults.events).toEqual(["*"]);

    const list = await api("GET", "/v1/webhook-endpoints", admin);
    expect(list.status).toBe(200);
    const mine = list.body.endpoints.find((e: { id: string }) => e.id === res.body.id);
    expect(mine).toEqual({
      id: res.body.id,
      url: `${RECEIVER_URL}/created`,
      events: ["order.paid", "order.refunded"],
      description: "CRM",
      createdAt: res.body.createdAt,
      disabledAt: null,
    });
    expect(JSON.stringify(list.body)).not.toContain("whsec_");
    expect(await endpointAudit(res.body.id)).toEqual([
      {
        action: "webhook_endpoint.created",
        data: { url: `${RECEIVER_URL}/created`, events: ["order.paid", "order.refunded"], description: "CRM" },
      },
    ]);
  });

  it("an Idempotency-Key makes a retried create the same endpoint with the same secret", async () => {
    const headers = { "Idempotency-Key": "endpoint-once" };
    const body = { url: `${RECEIVER_URL}/keyed` };
    const first = await api("POST", "/v1/webhook-endpoints", { ...admin, body, headers });
    const again = await api("POST", "/v1/webhook-endpoints", { ...admin, body, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    const reused = await api("POST", "/v1/webhook-endpoints", {
      ...admin,
      body: { url: `${RECEIVER_URL}/other` },
      headers,
    });
    expect(reused.status).toBe(422);
    expect(await count("SELECT COUNT(*) AS n FROM webhook_endpoints WHERE url LIKE ?", `${RECEIVER_URL}/keyed`)).toBe(
      1,
    );
  });

  it("DELETE answers 204, again 204; the endpoint leaves the list and its routes answer 404; audited once", async () => {
    const endpoint = await newEndpoint();
    const path = `/v1/webhook-endpoints/${endpoint.id}`;
    expect((await api("DELETE", path, admin)).status).toBe(204);
    expect((await api("DELETE", path, admin)).status).toBe(204);
    const list = (await api("GET", "/v1/webhook-endpoints", admin)).body.endpoints;
    expect(list.some((e: { id: string }) => e.id === endpoint.id)).toBe(false);
    const deliveries = await api("GET", `${path}/deliveries`, admin);
    expect(deliveries.status).toBe(404);
    expect(deliveries.body.code).toBe("NOT_FOUND");
    expect((await endpointAudit(endpoint.id)).map((a) => a.action)).toEqual([
      "webhook_endpoint.created",
      "webhook_endpoint.deleted",
    ]);
  });

  it("GET …/deliveries of a new endpoint is an empty page", async () => {
    const endpoint = await newEndpoint();
    const res = await api("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries?status=failed&limit=5`, admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deliveries: [], nextCursor: null });
  });
});

describe("the URL rules", () => {
  const refused: [string, string][] = [
    ["http://receiver.example/hook", "https://"],
    ["ftp://receiver.example/hook", "https://"],
    ["https://user:secret@receiver.example/hook", "user name or password"],
    ["https://user@receiver.example/hook", "user name or password"],
    ["https://@receiver.example/hook", "user name or password"],
    ["https://receiver.example:0/hook", "port 0"],
    ["https://receiver.example:99999/hook", "absolute https:// URL"],
    ["https://10.1.2.3/hook", "private (10.0.0.0/8)"],
    ["https://172.16.0.1/hook", "private (172.16.0.0/12)"],
    ["https://172.31.255.255/hook", "private (172.16.0.0/12)"],
    ["https://192.168.1.1:8443/hook", "private (192.168.0.0/16)"],
    ["https://127.0.0.1/hook", "loopback"],
    ["https://127.1/hook", "loopback"],
    ["https://2130706433/hook", "loopback"],
    ["https://0x7f000001/hook", "loopback"],
    ["https://169.254.169.254/latest/meta-data", "link-local"],
    ["https://0.0.0.0/hook", "unspecified"],
    ["https://100.64.0.1/hook", "shared"],
    ["https://[::1]/hook", "loopback (::1)"],
    ["https://[::]/hook", "unspecified (::)"],
    ["https://[fc00::1]/hook", "private (fc00::/7)"],
    ["https://[fd12:3456::1]/hook", "private (fc00::/7)"],
    ["https://[fe80::1]/hook", "link-local (fe80::/10)"],
    ["https://[::ffff:127.0.0.1]/hook", "loopback (127.0.0.0/8)"],
    ["https://[::ffff:10.0.0.1]/hook", "private (10.0.0.0/8)"],
    ["https://[::ffff:a9fe:a9fe]/hook", "link-local (169.254.0.0/16)"],
    ["https://[64:ff9b::c0a8:101]/hook", "private (192.168.0.0/16)"],
    ["https://localhost/hook", "public host"],
    ["https://localhost:8443/hook", "public host"],
    ["https://app.localhost/hook", "public host"],
    ["https://printer.local/hook", "public host"],
    ["https://intranet/hook", "public host"],
    ["not a url", "absolute https:// URL"],
    ["/relative/hook", "absolute https:// URL"],
  ];

  it.each(refused)("%s is refused (400 INVALID_INPUT on url), nothing changed", async (url, why) => {
    const before = await snapshot();
    const res = await api("POST", "/v1/webhook-endpoints", { ...admin, body: { url } });
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect(res.body.code).toBe("INVALID_INPUT");
    expect(res.body.errors).toEqual([{ path: "url", message: expect.stringContaining(why) }]);
    expect(await snapshot()).toEqual(before);
  });

  it("with WEBHOOK_ALLOW_LOCAL=true (npm start) the route takes http://127.0.0.1:<port>; private addresses stay refused", async () => {
    const settings = env as { WEBHOOK_ALLOW_LOCAL: string };
    settings.WEBHOOK_ALLOW_LOCAL = "true";
    try {
      const local = await api("POST", "/v1/webhook-endpoints", {
        ...admin,
        body: { url: "http://127.0.0.1:8788/hook" },
      });
      expect(local.status).toBe(201);
      const before = await snapshot();
      const lan = await api("POST", "/v1/webhook-endpoints", {
        ...admin,
        body: { url: "http://192.168.1.20:8788/hook" },
      });
      expect(lan.status).toBe(400);
      expect(lan.body.errors).toEqual([{ path: "url", message: expect.stringContaining("https://") }]);
      expect(await snapshot()).toEqual(before);
      await api("DELETE", `/v1/webhook-endpoints/${local.body.id}`, admin);
    } finally {
      settings.WEBHOOK_ALLOW_LOCAL = "false";
    }
  });

  it("public hosts and IP literals, with any port, are accepted", () => {
    for (const url of [
      "https://receiver.example/hook",
      "https://receiver.example:8443/hook?x=1",
      "https://hooks.example.com./in",
      "https://93.184.216.34/hook",
      "https://[2606:4700::1111]/hook",
      "https://172.32.0.1/hook",
    ]) {
      expect(webhookUrlProblem(url, false), url).toBeNull();
    }
  });

  it("WEBHOOK_ALLOW_LOCAL=true also accepts http://127.0.0.1:<port> and http://localhost:<port>; private addresses stay refused", () => {
    for (const url of ["http://127.0.0.1:8787/hook", "http://localhost:3000/", "https://localhost:8443/x"]) {
      expect(webhookUrlProblem(url, true), url).toBeNull();
      expect(webhookUrlProblem(url, false), url).not.toBeNull();
    }
    for (const [url, why] of [
      ["http://127.0.0.1/hook", "port"],
      ["http://localhost/hook", "port"],
      ["http://127.0.0.2:8080/hook", "https://"],
      ["http://10.0.0.1:8080/hook", "https://"],
      ["https://10.0.0.1:8443/hook", "private"],
      ["https://192.168.0.10:8443/hook", "private"],
      ["http://receiver.example:8080/hook", "https://"],
      ["http://user:pw@127.0.0.1:8080/hook", "user name"],
    ] as const) {
      expect(webhookUrlProblem(url, true), url).toContain(why);
    }
  });
});

interface Case {
  name: string;
  method: string;
  path: string | (() => string);
  body?: unknown;
  raw?: string;
  token?: string | null;
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** The field named in `errors`, when the refusal names one. */
  field?: string;
}

let delivered: { endpointId: string; deliveryId: string } | null = null;
let otherEndpoint = "";

describe("bad input on every new route: problem+json, nothing changed", () => {
  const create = (body: unknown): Omit<Case, "name" | "status" | "code"> => ({
    method: "POST",
    path: "/v1/webhook-endpoints",
    body,
  });
  const good = { url: `${RECEIVER_URL}/good` };
  const cases: Case[] = [
    { name: "create without a token", ...create(good), token: null, status: 401, code: "UNAUTHORIZED" },
    { name: "create with a wrong token", ...create(good), token: "nope", status: 401, code: "UNAUTHORIZED" },
    { name: "create with no url", ...create({}), status: 400, code: "INVALID_INPUT", field: "url" },
    { name: "url not a string", ...create({ url: 42 }), status: 400, code: "INVALID_INPUT", field: "url" },
    { name: "url empty", ...create({ url: "" }), status: 400, code: "INVALID_INPUT", field: "url" },
    {
      name: "url too long",
      ...create({ url: `https://receiver.example/${"a".repeat(2100)}` }),
      status: 400,
      code: "INVALID_INPUT",
      field: "url",
    },
    {
      name: "events not an array",
      ...create({ ...good, events: "*" }),
      status: 400,
      code: "INVALID_INPUT",
      field: "events",
    },
    { name: "events empty", ...create({ ...good, events: [] }), status: 400, code: "INVALID_INPUT", field: "events" },
    {
      name: "events with an unknown type",
      ...create({ ...good, events: ["order.shipped"] }),
      status: 400,
      code: "INVALID_INPUT",
      field: "events.0",
    },
    {
      name: "events repeating a type",
      ...create({ ...good, events: ["order.paid", "order.paid"] }),
      status: 400,
      code: "INVALID_INPUT",
      field: "events",
    },
    {
      name: "'*' with other types",
      ...create({ ...good, events: ["*", "order.paid"] }),
      status: 400,
      code: "INVALID_INPUT",
      field: "events",
    },
    {
      name: "description too long",
      ...create({ ...good, description: "d".repeat(501) }),
      status: 400,
      code: "INVALID_INPUT",
      field: "description",
    },
    {
      name: "description empty",
      ...create({ ...good, description: "  " }),
      status: 400,
      code: "INVALID_INPUT",
      field: "description",
    },
    { name: "an unknown field", ...create({ ...good, secret: "mine" }), status: 400, code: "INVALID_INPUT", field: "" },
    {
      name: "a body that is not JSON",
      method: "POST",
      path: "/v1/webhook-endpoints",
      raw: "{",
      status: 400,
      code: "INVALID_JSON",
    },
    { name: "a body that is an array", ...create([good]), status: 400, code: "INVALID_INPUT", field: "" },
    {
      name: "a body too large",
      ...create({ url: `https://receiver.example/${"a".repeat(70 * 1024)}` }),
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
    },
    {
      name: "an Idempotency-Key too long",
      ...create(good),
      headers: { "Idempotency-Key": "k".repeat(300) },
      status: 400,
      code: "INVALID_INPUT",
    },
    {
      name: "list without a token",
      method: "GET",
      path: "/v1/webhook-endpoints",
      token: null,
      status: 401,
      code: "UNAUTHORIZED",
    },
    {
      name: "delete a malformed id",
      method: "DELETE",
      path: "/v1/webhook-endpoints/nope",
      status: 400,
      code: "INVALID_INPUT",
      field: "endpointId",
    },
    {
      name: "delete an unknown endpoint",
      method: "DELETE",
      path: `/v1/webhook-endpoints/${unknownEndpoint}`,
      status: 404,
      code: "NOT_FOUND",
    },
    {
      name: "delete without a token",
      method: "DELETE",
      path: `/v1/webhook-endpoints/${unknownEndpoint}`,
      token: null,
      status: 401,
      code: "UNAUTHORIZED",
    },
    {
      name: "deliveries of a malformed id",
      method: "GET",
      path: "/v1/webhook-endpoints/evt_0000000000000000000000/deliveries",
      status: 400,
      code: "INVALID_INPUT",
      field: "endpointId",
    },
    {
      name: "deliveries of an unknown endpoint",
      method: "GET",
      path: `/v1/webhook-endpoints/${unknownEndpoint}/deliveries`,
      status: 404,
      code: "NOT_FOUND",
    },
    {
      name: "deliveries with an unknown status",
      method: "GET",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries?status=lost`,
      status: 400,
      code: "INVALID_INPUT",
      field: "status",
    },
    {
      name: "deliveries with limit 0",
      method: "GET",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries?limit=0`,
      status: 400,
      code: "INVALID_INPUT",
      field: "limit",
    },
    {
      name: "deliveries with limit 201",
      method: "GET",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries?limit=201`,
      status: 400,
      code: "INVALID_INPUT",
      field: "limit",
    },
    {
      name: "deliveries with a cursor not ours",
      method: "GET",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries?cursor=forged`,
      status: 400,
      code: "INVALID_INPUT",
      field: "cursor",
    },
    {
      name: "deliveries with an unknown query parameter",
      method: "GET",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries?type=order.paid`,
      status: 400,
      code: "INVALID_INPUT",
    },
    {
      name: "deliveries without a token",
      method: "GET",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries`,
      token: null,
      status: 401,
      code: "UNAUTHORIZED",
    },
    {
      name: "retry a malformed delivery id",
      method: "POST",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries/nope/retry`,
      status: 400,
      code: "INVALID_INPUT",
      field: "deliveryId",
    },
    {
      name: "retry an unknown delivery",
      method: "POST",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries/${unknownDelivery}/retry`,
      status: 404,
      code: "NOT_FOUND",
    },
    {
      name: "retry under an unknown endpoint",
      method: "POST",
      path: () => `/v1/webhook-endpoints/${unknownEndpoint}/deliveries/${delivered?.deliveryId}/retry`,
      status: 404,
      code: "NOT_FOUND",
    },
    {
      name: "retry a delivery under another endpoint",
      method: "POST",
      path: () => `/v1/webhook-endpoints/${otherEndpoint}/deliveries/${delivered?.deliveryId}/retry`,
      status: 404,
      code: "NOT_FOUND",
    },
    {
      name: "retry a delivered delivery",
      method: "POST",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries/${delivered?.deliveryId}/retry`,
      status: 409,
      code: "ALREADY_DELIVERED",
    },
    {
      name: "retry without a token",
      method: "POST",
      path: () => `/v1/webhook-endpoints/${delivered?.endpointId}/deliveries/${delivered?.deliveryId}/retry`,
      token: null,
      status: 401,
      code: "UNAUTHORIZED",
    },
  ];

  it("sets up an endpoint with a delivered delivery", async () => {
    const endpoint = await newEndpoint();
    otherEndpoint = (await newEndpoint()).id;
    // A delivered delivery, written as the consumer writes one (the consumer itself is tested elsewhere).
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO webhook_messages (id, type, event_id, data, created_at, payload, fanned_out_at)
       VALUES ('msg_test_1-tier.sold_out', 'tier.sold_out', 'evt_x', '{}', ?1, '{}', ?1)`,
    )
      .bind(now)
      .run();
    const deliveryId = "whd_DeLiVeReD0000000000000";
    await env.DB.prepare(
      `INSERT INTO webhook_deliveries (id, endpoint_id, message_id, type, status, attempts, last_status, chain,
         created_at, updated_at, delivered_at)
       VALUES (?1, ?2, 'msg_test_1-tier.sold_out', 'tier.sold_out', 'delivered', 1, 200, 0, ?3, ?3, ?3)`,
    )
      .bind(deliveryId, endpoint.id, now)
      .run();
    delivered = { endpointId: endpoint.id, deliveryId };
    const listed = await api("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`, admin);
    expect(listed.body.deliveries).toEqual([
      expect.objectContaining({
        id: deliveryId,
        status: "delivered",
        attempts: 1,
        lastStatus: 200,
        nextAttemptAt: null,
      }),
    ]);
  });

  it.each(cases)("$name: $status $code", async (c) => {
    const before = await snapshot();
    const path = typeof c.path === "function" ? c.path() : c.path;
    const res = await api(c.method, path, {
      token: c.token === undefined ? ADMIN_TOKEN : c.token,
      ...(c.body === undefined ? {} : { body: c.body }),
      ...(c.raw === undefined ? {} : { raw: c.raw }),
      ...(c.headers ? { headers: c.headers } : {}),
    });
    expect(res.status).toBe(c.status);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect(res.body).toMatchObject({ status: c.status, code: c.code });
    if (c.field !== undefined) {
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(c.field);
    }
    expect(await snapshot()).toEqual(before);
  });
});
