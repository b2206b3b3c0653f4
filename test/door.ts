/** Shared steps of the check-in tests: tickets to scan, scanners, and scans. */
import { ADMIN_TOKEN, api, createEvent, reserve } from "./helpers";

export interface IssuedTicket {
  id: string;
  tierId: string;
  code: string;
  status: string;
}

/** An event with one free tier, and `count` tickets of it (free orders are paid at once). */
export async function eventWithTickets(count: number, fields: Record<string, unknown> = {}) {
  const event = await createEvent([{ capacity: Math.max(count, 1), price: 0, maxPerOrder: 10 }], fields);
  const tierId = event.tiers[0]?.id as string;
  const orders = await Promise.all(
    Array.from({ length: Math.ceil(count / 10) }, async (_, i) => {
      const quantity = Math.min(10, count - i * 10);
      const reservation = (await reserve(event.id, [{ tierId, quantity }])).body;
      const res = await api("POST", `/v1/reservations/${reservation.id}/checkout`, {
        token: reservation.token,
        body: { email: `guest${i}@example.com` },
      });
      if (res.status !== 201 || res.body.status !== "paid")
        throw new Error(`no free order: ${JSON.stringify(res.body)}`);
      return res.body as { orderId: string; orderToken: string; tickets: IssuedTicket[] };
    }),
  );
  return { event, tierId, orders, tickets: orders.flatMap((o) => o.tickets) };
}

export async function newScanner(eventId: string, fields: { name?: string; gate?: string } = {}) {
  const res = await api("POST", `/v1/events/${eventId}/scanners`, {
    token: ADMIN_TOKEN,
    body: { name: "Door 1", ...fields },
  });
  if (res.status !== 201) throw new Error(`scanner not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; name: string; gate: string | null; token: string };
}

export function scan(token: string, code: string, extra: { gate?: string; direction?: "in" | "out" } = {}) {
  return api("POST", "/v1/checkins", { token, body: { code, ...extra } });
}

export interface OfflineScan {
  nonce: string;
  code: string;
  scannedAt: string;
  gate?: string;
  direction?: "in" | "out";
}

export function uploadBatch(token: string, scans: OfflineScan[]) {
  return api("POST", "/v1/checkins/batch", { token, body: { scans } });
}

/** An ISO time `seconds` from now (negative: in the past). */
export const secondsFromNow = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
