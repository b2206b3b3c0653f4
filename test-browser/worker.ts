/**
 * The Worker for the browser tests: the `wrangler deploy --dry-run` bundle served by Miniflare on a
 * free local port (load/serve's `miniflare-direct` server, fresh state and secrets per run), and the
 * HTTP steps that give a door something to scan: an event with a free tier, its tickets, a scanner
 * (load/common's set-up helpers and HTTP client).
 */
import path from "node:path";
import { addScanners, createEvent } from "../load/common/events.ts";
import { type Http, httpClient } from "../load/common/http.ts";
import type { Server } from "../load/serve/server.ts";
import { startServer } from "../load/serve/start.ts";
import { Workspace } from "../load/serve/workspace.ts";

export interface LocalWorker {
  url: string;
  adminToken: string;
  /** Its API, for set-up: returns the body, throws unless the status is the one expected. */
  api: Http["api"];
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
    api: httpClient(server.url, { timeoutSeconds: 15 }).api,
    stop: async () => {
      try {
        await server.stop();
      } finally {
        await workspace.dispose();
      }
    },
  };
}

export interface Ticket {
  id: string;
  tierId: string;
  code: string;
}

/** An event with one free tier, `count` (≤ 10) of its tickets in one free order, and a scanner at `gate`. */
export async function seedDoor(worker: LocalWorker, count: number, gate: string) {
  const event = await createEvent(worker, "Browser test night", { price: 0, capacity: count });
  const reservation = await worker.api<{ id: string; token: string }>(
    "POST",
    `/v1/events/${event.id}/reservations`,
    { items: [{ tierId: event.tierId, quantity: count }] },
    { expect: 201 },
  );
  const order = await worker.api<{ status: string; tickets: Ticket[] }>(
    "POST",
    `/v1/reservations/${reservation.id}/checkout`,
    { email: "guest@example.com" },
    { token: reservation.token, expect: 201 },
  );
  if (order.status !== "paid") throw new Error(`the free order is ${order.status}, not paid`);
  const [scannerToken] = await addScanners(worker, event.id, 1, () => gate);
  return { eventId: event.id, tickets: order.tickets, scannerToken: scannerToken as string };
}
