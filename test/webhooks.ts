/** Shared steps of the webhook tests: an endpoint of the test's own, its deliveries, what reached it. */
import { env } from "cloudflare:workers";
import { afterEach, expect } from "vitest";
import { ADMIN_TOKEN, api } from "./helpers";
import { RECEIVER_URL, type ReceivedWebhook } from "./receiver";

export interface NewEndpoint {
  id: string;
  url: string;
  events: string[];
  secret: string;
  disabledAt: string | null;
}

let endpoints = 0;

/**
 * Each test of the file sees only the endpoints it made: those left by earlier tests (D1 outlives a
 * test) are deleted after each, so they take no webhooks, and none of the receiver's answers.
 */
export function useOwnEndpoints() {
  afterEach(async () => {
    await env.DB.prepare("UPDATE webhook_endpoints SET deleted_at = ? WHERE deleted_at IS NULL").bind(Date.now()).run();
  });
}

/** An endpoint at a URL of its own on the receiver (`…/hook/<n>`), so each test reads only its own webhooks. */
export async function newEndpoint(body: Record<string, unknown> = {}): Promise<NewEndpoint> {
  const res = await api("POST", "/v1/webhook-endpoints", {
    token: ADMIN_TOKEN,
    body: { url: `${RECEIVER_URL}/${++endpoints}`, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as NewEndpoint;
}

export interface Delivery {
  id: string;
  messageId: string;
  type: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export async function deliveriesOf(endpointId: string, query = ""): Promise<Delivery[]> {
  const res = await api("GET", `/v1/webhook-endpoints/${endpointId}/deliveries?limit=200${query}`, {
    token: ADMIN_TOKEN,
  });
  expect(res.status).toBe(200);
  return res.body.deliveries as Delivery[];
}

export interface Webhook {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
  received: ReceivedWebhook;
}

/** The webhooks that reached `endpoint`, in order of arrival, parsed. */
export function webhooksAt(received: ReceivedWebhook[], endpoint: { url: string }): Webhook[] {
  return received
    .filter((r) => r.url === endpoint.url)
    .map((r) => ({ ...(JSON.parse(r.body) as Omit<Webhook, "received">), received: r }));
}

export async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** The audit entries of the organiser's account (no event) about one endpoint. */
export async function endpointAudit(endpointId: string): Promise<{ action: string; data: Record<string, unknown> }[]> {
  const { results } = await env.DB.prepare(
    "SELECT action, data, event_id FROM audit_log WHERE subject_id = ? ORDER BY at, id",
  )
    .bind(endpointId)
    .all<{ action: string; data: string; event_id: string }>();
  for (const r of results) expect(r.event_id).toBe("");
  return results.map((r) => ({ action: r.action, data: JSON.parse(r.data) as Record<string, unknown> }));
}
