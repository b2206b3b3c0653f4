/**
 * The bot check (API.md, "Drops"), with TURNSTILE_SECRET_KEY set for these tests only, against a local
 * fake of Cloudflare's siteverify (the service's fetch is answered here, never by the internet).
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DUMMY_TURNSTILE_TOKEN, SITEVERIFY_URL } from "../src/domain/drops/bot-check";
import { api, availability, createEvent, reserve } from "./helpers";

const settings = env as { TURNSTILE_SECRET_KEY?: string; TURNSTILE_MODE: string };
const GOOD = "a-token-siteverify-accepts";
let verified: URLSearchParams[] = [];
let siteverifyDown = false;

beforeEach(() => {
  settings.TURNSTILE_SECRET_KEY = "turnstile-test-secret";
  settings.TURNSTILE_MODE = "live";
  verified = [];
  siteverifyDown = false;
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (request.url !== SITEVERIFY_URL) return realFetch(input, init);
    const form = await request.formData();
    verified.push(new URLSearchParams([...form].map(([k, v]) => [k, String(v)])));
    if (siteverifyDown) return new Response("unavailable", { status: 503 });
    const success = form.get("secret") === "turnstile-test-secret" && form.get("response") === GOOD;
    return Response.json(success ? { success: true } : { success: false, "error-codes": ["invalid-input-response"] });
  });
});

afterEach(() => {
  delete settings.TURNSTILE_SECRET_KEY;
  settings.TURNSTILE_MODE = "live";
  vi.restoreAllMocks();
});

describe("the bot check, when TURNSTILE_SECRET_KEY is set", () => {
  it("needs a token siteverify accepts to reserve on an event without a queue; a refusal holds nothing", async () => {
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    const missing = await reserve(event.id, [{ tierId, quantity: 1 }]);
    expect(missing.status).toBe(403);
    expect(missing.body.code).toBe("BOT_CHECK_FAILED");
    expect(verified).toHaveLength(0); // nothing to ask siteverify about

    const refused = await reserve(
      event.id,
      [{ tierId, quantity: 1 }],
      { turnstileToken: "forged" },
      { "CF-Connecting-IP": "2001:db8::beef" },
    );
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "BOT_CHECK_FAILED", errorCodes: ["invalid-input-response"] });
    expect(verified[0]?.get("remoteip")).toBe("2001:db8::beef");
    expect((await availability(event.id))[0]?.available).toBe(10);

    const ok = await reserve(event.id, [{ tierId, quantity: 1 }], { turnstileToken: GOOD });
    expect(ok.status).toBe(201);
    expect((await availability(event.id))[0]?.available).toBe(9);
  });

  it("needs one to join a queue, and not to reserve with an admission pass", async () => {
    const event = await createEvent([{ capacity: 10 }], {
      queue: { opensAt: new Date(Date.now() - 1000).toISOString(), admitPerMinute: 60 },
    });
    const join = (body: Record<string, unknown>) => api("POST", `/v1/events/${event.id}/queue`, { body });
    expect((await join({})).body.code).toBe("BOT_CHECK_FAILED");
    expect((await join({ turnstileToken: "forged" })).body.code).toBe("BOT_CHECK_FAILED");
    expect((await join({ turnstileToken: GOOD })).status).toBe(201);
    // The queue, not the bot check, guards this event's reservations.
    const tierId = event.tiers[0]?.id as string;
    expect((await reserve(event.id, [{ tierId, quantity: 1 }])).body.code).toBe("ADMISSION_REQUIRED");
  });

  it("answers 500, not a refusal, when siteverify itself fails", async () => {
    const event = await createEvent([{ capacity: 10 }]);
    siteverifyDown = true;
    const res = await reserve(event.id, [{ tierId: event.tiers[0]?.id as string, quantity: 1 }], {
      turnstileToken: GOOD,
    });
    expect(res.status).toBe(500);
    expect(res.body.code).toBe("INTERNAL");
    expect((await availability(event.id))[0]?.available).toBe(10);
  });

  it("in simulator mode accepts the documented dummy token and nothing else, without a network call", async () => {
    settings.TURNSTILE_MODE = "simulator";
    const event = await createEvent([{ capacity: 10 }]);
    const tierId = event.tiers[0]?.id as string;
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], { turnstileToken: GOOD })).body.code).toBe(
      "BOT_CHECK_FAILED",
    );
    expect((await reserve(event.id, [{ tierId, quantity: 1 }], { turnstileToken: DUMMY_TURNSTILE_TOKEN })).status).toBe(
      201,
    );
    expect(verified).toHaveLength(0);
  });

  it("is off without the secret: no token needed", async () => {
    delete settings.TURNSTILE_SECRET_KEY;
    const event = await createEvent([{ capacity: 10 }]);
    expect((await reserve(event.id, [{ tierId: event.tiers[0]?.id as string, quantity: 1 }])).status).toBe(201);
  });
});
