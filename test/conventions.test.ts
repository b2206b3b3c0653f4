import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api } from "./helpers";

describe("API conventions", () => {
  it("GET /healthz answers ok", async () => {
    const res = await api("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });

  it("every response carries X-Request-Id, echoed when the client sent one", async () => {
    const mine = await api("GET", "/healthz", { headers: { "X-Request-Id": "req-123" } });
    expect(mine.headers.get("X-Request-Id")).toBe("req-123");
    const generated = await api("GET", "/v1/nowhere");
    expect(generated.status).toBe(404);
    expect(generated.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers CORS preflight for /v1 routes without touching state", async () => {
    const res = await exports.default.fetch("http://x/v1/events/evt_0000000000000000000000/reservations", {
      method: "OPTIONS",
      headers: {
        Origin: "https://shop.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,idempotency-key",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://shop.example");
    expect(res.headers.get("Access-Control-Allow-Headers")).toContain("Idempotency-Key");
  });
});
