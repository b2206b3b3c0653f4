import { exports } from "cloudflare:workers";
import { expectDocumented } from "./openapi-check";

export const ADMIN_TOKEN = "test-admin-token";
const BASE = "http://boxoffice.test";

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallOptions {
  body?: unknown;
  /** A raw body, sent as is. */
  raw?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

let clients = 0;

/**
 * A new client address (documentation range, 2001:db8::/32; the service counts an IPv6 client by its
 * /64, so each gets a /64 of its own) each call: tests that send many requests stand for as many
 * clients (API.md, "Drops"); a test of the per-client limits sends one address itself.
 */
export function newClient(): string {
  clients += 1;
  return `2001:db8:${(clients >>> 16).toString(16)}:${(clients & 0xffff).toString(16)}::1`;
}

// biome-ignore lint/suspicious/noExplicitAny: test responses are asserted field by field
export async function api<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { "CF-Connecting-IP": newClient(), ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  const res = await exports.default.fetch(`${BASE}${path}`, { method, headers, body });
  const text = await res.text();
  const type = res.headers.get("Content-Type") ?? "";
  // JSON (and problem+json) is parsed; a page for people (HTML, CSV) is its text.
  const parsed = !text ? null : type.includes("json") ? JSON.parse(text) : text;
  await expectDocumented(method, `${BASE}${path}`, res.status, type, parsed);
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export interface TierSpec {
  name?: string;
  price?: number;
  capacity?: number;
  seats?: string[];
  [field: string]: unknown;
}

export async function createEvent(tiers: TierSpec[], fields: Record<string, unknown> = {}) {
  const res = await api("POST", "/v1/events", {
    token: ADMIN_TOKEN,
    body: {
      name: "Test night",
      startsAt: "2027-06-01T19:00:00.000Z",
      currency: "eur",
      ...fields,
      tiers: tiers.map((t, i) => ({ name: `Tier ${i + 1}`, price: 2500, ...t })),
    },
  });
  if (res.status !== 201) throw new Error(`event not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; tiers: { id: string; name: string; capacity: number }[] };
}

export function reserve(
  eventId: string,
  items: ({ tierId: string; quantity: number } | { tierId: string; seats: string[] })[],
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return api("POST", `/v1/events/${eventId}/reservations`, { body: { items, ...extra }, headers });
}

export async function availability(eventId: string) {
  const res = await api("GET", `/v1/events/${eventId}/availability`);
  if (res.status !== 200) throw new Error(`availability: ${res.status}`);
  return res.body.tiers as {
    tierId: string;
    available: number;
    status: string;
    seats?: { label: string; status: string }[];
  }[];
}

export interface AuditEntry {
  action: string;
  subject: { id: string };
  data: Record<string, unknown>;
}

export async function auditActions(eventId: string, action?: string): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: "200", ...(action ? { action } : {}), ...(cursor ? { cursor } : {}) });
    const res = await api("GET", `/v1/events/${eventId}/audit?${query}`, { token: ADMIN_TOKEN });
    if (res.status !== 200) throw new Error(`audit: ${res.status}`);
    entries.push(...res.body.entries);
    cursor = res.body.nextCursor;
  } while (cursor);
  return entries;
}
