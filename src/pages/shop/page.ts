/**
 * `GET /e/:eventId`: the event's shop (docs/api.md, "Ticket delivery and pages"), one HTML document with
 * its style and script inline. The Worker only serves it: the page is served with the Event that
 * `GET /v1/events/:eventId` answers, and everything after (live availability, the queue's waiting page,
 * the hold, checkout) goes through the public API from the buyer's browser, so the page holds no rule
 * the API does not enforce. The script is browser.ts; an unknown or malformed event id gets one 404 page.
 */
import { getEvent } from "../../domain/catalog/events";
import { ApiError } from "../../lib/errors";
import { operation, Routes } from "../../routes/operation";
import { eventView } from "../../routes/views";
import { idOf } from "../../schemas/common";
import { newNonce, scriptPagePolicy } from "../nonce";
import { noShopPage, shopPage } from "./view";

const params = { eventId: idOf("evt") };

const shop = operation({
  method: "get",
  path: "/e/:eventId",
  summary: "The event's shop: live availability, the queue's waiting page, reserve, checkout",
  auth: "none",
  limit: "buyer",
  page: true,
  params,
  responses: {
    200: { description: "The shop page", contentType: "text/html" },
    404: { description: "The same page for an unknown or malformed event id", contentType: "text/html" },
  },
});

/**
 * Only this response's own style and script run, and the script may call this origin only. Checkout
 * leaves the page by navigation (to Stripe's page or the simulator's), which the policy does not limit.
 */
const headers = (nonce: string) => ({
  "Content-Security-Policy": scriptPagePolicy(nonce),
  // Availability is live and the page carries the event as it was: a kept copy would show stale tiers.
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
});

async function eventOf(db: Parameters<typeof getEvent>[0], id: string) {
  if (!params.eventId.safeParse(id).success) return null;
  try {
    const { event, tiers } = await getEvent(db, id);
    return eventView(event, tiers);
  } catch (error) {
    if (error instanceof ApiError && error.code === "NOT_FOUND") return null;
    throw error;
  }
}

export const shopPages = new Routes().on(shop, async (c) => {
  const event = await eventOf(c.get("db"), c.req.param("eventId") ?? "");
  const nonce = newNonce();
  if (!event) return c.html(noShopPage(nonce), 404, headers(nonce));
  return c.html(shopPage(nonce, event), 200, headers(nonce));
});
