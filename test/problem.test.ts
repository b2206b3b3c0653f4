import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/lib/errors";
import { problem } from "../src/lib/problem";

describe("problem details", () => {
  it("an extension member never replaces a standard one (RFC 9457's status is the HTTP status)", async () => {
    const app = new Hono().get("/", (c) =>
      problem(
        c,
        new ApiError("RESERVATION_NOT_ACTIVE", "The reservation is released", {
          status: "released",
          type: "https://evil.example/",
          title: "Fine",
          code: "OK",
          detail: "nothing wrong",
          reservationStatus: "released",
        }),
      ),
    );
    const res = await app.request("/");
    expect(res.status).toBe(409);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await res.json()).toEqual({
      type: "about:blank",
      title: "Conflict",
      status: 409,
      code: "RESERVATION_NOT_ACTIVE",
      detail: "The reservation is released",
      reservationStatus: "released",
    });
  });
});
