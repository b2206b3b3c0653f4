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

/**
 * Reuses the event recorded in `file` while the local database still has it (deleting
 * `.wrangler/state` forgets it), otherwise creates a fresh one and records its id.
 */
export async function ensureDemoEvent(baseUrl: string, adminToken: string, file: string): Promise<DemoEvent> {
  const id = savedId(file);
  if (id !== null) {
    const res = await fetch(`${baseUrl}/v1/events/${encodeURIComponent(id)}`);
    if (res.status === 200) return (await res.json()) as DemoEvent;
  }
  const res = await fetch(`${baseUrl}/v1/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify(demoEventInput()),
  });
  if (res.status !== 201) {
    throw new Error(`Creating the demo event failed: ${res.status} ${await res.text()}`);
  }
  const event = (await res.json()) as DemoEvent;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ id: event.id }, null, 2)}\n`);
  return event;
}
