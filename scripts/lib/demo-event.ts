import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface DemoTier {
  id: string;
  name: string;
  kind: "general_admission" | "seated";
}

export interface DemoEvent {
  id: string;
  name: string;
  tiers: DemoTier[];
}

export interface DropEvent extends DemoEvent {
  queue: { opensAt: string; admitPerMinute: number } | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

function demoEventInput(now = Date.now()) {
  const startsAt = Math.ceil((now + 30 * DAY_MS) / HOUR_MS) * HOUR_MS;
  const seats = ["A", "B", "C"].flatMap((row) => Array.from({ length: 10 }, (_, i) => `${row}${i + 1}`));
  return {
    name: "Boxoffice Demo Night",
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(startsAt + 4 * HOUR_MS).toISOString(),
    timezone: "Europe/Amsterdam",
    currency: "eur",
    maxTicketsPerOrder: 10,
    tiers: [
      { name: "General admission", price: 2500, capacity: 500 },
      { name: "Balcony (seated)", price: 4500, seats },
    ],
  };
}

function savedId(file: string): string | null {
  try {
    const saved: unknown = JSON.parse(readFileSync(file, "utf8"));
    return saved && typeof saved === "object" && "id" in saved && typeof saved.id === "string" ? saved.id : null;
  } catch {
    return null;
  }
}

/** A drop: one tier of 100, sold through a queue that opens a minute after `npm start`. */
function dropEventInput(now = Date.now()) {
  const startsAt = Math.ceil((now + 14 * DAY_MS) / HOUR_MS) * HOUR_MS;
  return {
    name: "Boxoffice Demo Drop",
    startsAt: new Date(startsAt).toISOString(),
    timezone: "Europe/Amsterdam",
    currency: "eur",
    maxTicketsPerOrder: 4,
    maxHeldPerClient: 4,
    queue: dropQueue(now),
    tiers: [{ name: "Drop", price: 3500, capacity: 100 }],
  };
}

export const dropQueue = (now = Date.now()) => ({
  opensAt: new Date(Math.ceil((now + 60_000) / 1000) * 1000).toISOString(),
  admitPerMinute: 30,
  passSeconds: 600,
  passReservations: 2,
});

const organiser = (adminToken: string) => ({
  Authorization: `Bearer ${adminToken}`,
  "Content-Type": "application/json",
});

/**
 * Reuses the event recorded in `file` while the local database still has it (deleting
 * `.wrangler/state` forgets it), otherwise creates a fresh one and records its id.
 */
export function ensureDemoEvent(baseUrl: string, adminToken: string, file: string): Promise<DemoEvent> {
  return ensureEvent<DemoEvent>(baseUrl, adminToken, file, demoEventInput());
}

/**
 * The drop event, with a new queue (a new generation: nobody in it) that opens a minute from now: a
 * kept event has its queue removed and set again.
 */
export async function ensureDropEvent(baseUrl: string, adminToken: string, file: string): Promise<DropEvent> {
  const event = await ensureEvent<DropEvent>(baseUrl, adminToken, file, dropEventInput());
  if (event.queue && Date.parse(event.queue.opensAt) > Date.now()) return event;
  for (const queue of [null, dropQueue()]) {
    const res = await fetch(`${baseUrl}/v1/events/${event.id}`, {
      method: "PATCH",
      headers: organiser(adminToken),
      body: JSON.stringify({ queue }),
    });
    if (res.status !== 200) throw new Error(`Resetting the drop's queue failed: ${res.status} ${await res.text()}`);
    Object.assign(event, await res.json());
  }
  return event;
}

async function ensureEvent<E extends DemoEvent>(
  baseUrl: string,
  adminToken: string,
  file: string,
  input: unknown,
): Promise<E> {
  const id = savedId(file);
  if (id !== null) {
    const res = await fetch(`${baseUrl}/v1/events/${encodeURIComponent(id)}`);
    if (res.status === 200) return (await res.json()) as E;
  }
  const res = await fetch(`${baseUrl}/v1/events`, {
    method: "POST",
    headers: organiser(adminToken),
    body: JSON.stringify(input),
  });
  if (res.status !== 201) {
    throw new Error(`Creating the demo event failed: ${res.status} ${await res.text()}`);
  }
  const event = (await res.json()) as E;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ id: event.id }, null, 2)}\n`);
  return event;
}
