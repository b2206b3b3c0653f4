/**
 * The Worker for the browser tests: the `wrangler deploy --dry-run` bundle served by Miniflare on a
 * free local port (load/lib's `miniflare-direct` server, fresh state and secrets per run), and the
 * HTTP steps that give a door something to scan: an event with a free tier, its tickets, a scanner.
 */
import path from "node:path";
import { type Server, startServer } from "../load/lib/servers.ts";
import { Workspace } from "../load/lib/workspace.ts";

export interface LocalWorker {
  url: string;
  adminToken: string;
  stop(): Promise<void>;
}

export async function startWorker(): Promise<LocalWorker> {
  const workspace = await Workspace.create(path.join(import.meta.dirname, ".."));
  let server: Server;
  try {
    server = await startServer("miniflare-direct", workspace);
  } catch (error) {
    await workspace.dispose();
    throw error;
  }
  const adminToken = server.secrets.ADMIN_TOKEN;
  if (!adminToken) throw new Error("wrangler.toml declares no ADMIN_TOKEN secret");
  return {
    url: server.url,
    adminToken,
    stop: async () => {
      try {
        await server.stop();
      } finally {
        await workspace.dispose();
      }
    },
  };
}

async function call<T>(worker: LocalWorker, method: string, route: string, body: unknown, token?: string) {
  const res = await fetch(new URL(route, worker.url), {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

export interface Ticket {
  id: string;
  tierId: string;
  code: string;
}

/** An event with one free tier, `count` (≤ 10) of its tickets in one free order, and a scanner at `gate`. */
export async function seedDoor(worker: LocalWorker, count: number, gate: string) {
  const event = await call<{ id: string; tiers: { id: string }[] }>(
    worker,
    "POST",
    "/v1/events",
    {
      name: "Browser test night",
      startsAt: "2030-06-01T19:00:00.000Z",
      currency: "eur",
      tiers: [{ name: "Free entry", price: 0, capacity: count, maxPerOrder: 10 }],
    },
    worker.adminToken,
  );
  const tierId = event.tiers[0]?.id as string;
  const reservation = await call<{ id: string; token: string }>(worker, "POST", `/v1/events/${event.id}/reservations`, {
    items: [{ tierId, quantity: count }],
  });
  const order = await call<{ status: string; tickets: Ticket[] }>(
    worker,
    "POST",
    `/v1/reservations/${reservation.id}/checkout`,
    { email: "guest@example.com" },
    reservation.token,
  );
  if (order.status !== "paid") throw new Error(`the free order is ${order.status}, not paid`);
  const scanner = await call<{ token: string }>(
    worker,
    "POST",
    `/v1/events/${event.id}/scanners`,
    { name: "Browser test door", gate },
    worker.adminToken,
  );
  return { eventId: event.id, tickets: order.tickets, scannerToken: scanner.token };
}
