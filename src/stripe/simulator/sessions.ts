/**
 * The simulator's Checkout Sessions, stateless: a session's fields travel inside its id, sealed
 * with an HMAC under APP_SECRET, so the simulator keeps no storage of its own.
 */
import { fromBase64Url, toBase64Url, utf8 } from "../../lib/encoding";
import { secretsEqual } from "../../lib/ids";
import { hmac } from "../../lib/secret-box";

export interface SimulatedSession {
  amount_total: number;
  currency: string;
  client_reference_id: string | null;
  metadata: Record<string, string>;
  customer_email: string | null;
  success_url: string;
  cancel_url: string;
  expires_at: number;
  lines: { name: string; description: string | null; quantity: number; unit_amount: number }[];
}

const mac = async (secret: string, payload: string) =>
  toBase64Url((await hmac(secret, `simulated-session\n${payload}`)).subarray(0, 16));

export async function sessionId(secret: string, session: SimulatedSession): Promise<string> {
  const payload = toBase64Url(utf8(JSON.stringify(session)));
  return `cs_sim_${payload}.${await mac(secret, payload)}`;
}

export async function readSession(secret: string, id: string): Promise<SimulatedSession | null> {
  const match = id.match(/^cs_sim_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/);
  if (!match?.[1] || !match[2] || !(await secretsEqual(match[2], await mac(secret, match[1])))) return null;
  return JSON.parse(new TextDecoder().decode(fromBase64Url(match[1]))) as SimulatedSession;
}

/** The session as Stripe's API shows it. */
export function stripeView(id: string, s: SimulatedSession, origin: string, status: "open" | "complete" | "expired") {
  return {
    id,
    object: "checkout.session",
    mode: "payment",
    url: `${origin}/_simulator/checkout/${id}`,
    status,
    payment_status: status === "complete" ? "paid" : "unpaid",
    amount_total: s.amount_total,
    currency: s.currency,
    client_reference_id: s.client_reference_id,
    metadata: s.metadata,
    customer_email: s.customer_email,
    payment_intent: `pi_sim_${id.slice(-16)}`,
    expires_at: s.expires_at,
    success_url: s.success_url,
    cancel_url: s.cancel_url,
  };
}
