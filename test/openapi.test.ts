/** GET /openapi.json: generated from the routes' own zod schemas, and listing exactly the routes served. */
import { expect, it } from "vitest";
import { app } from "../src/app";
import { api } from "./helpers";

it("lists every route the app serves, and no other", async () => {
  const res = await api("GET", "/openapi.json");
  expect(res.status).toBe(200);
  expect(res.body.openapi).toBe("3.1.0");
  const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
  const served = [
    ...new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && !r.path.startsWith("/_simulator"))
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    ),
  ].sort();
  expect(documented).toEqual(served);
});

it("describes request bodies with the validating schemas", async () => {
  const doc = (await api("GET", "/openapi.json")).body;
  const reserve = doc.paths["/v1/events/{eventId}/reservations"].post;
  const schema = reserve.requestBody.content["application/json"].schema;
  expect(schema.type).toBe("object");
  expect(schema.required).toEqual(["items"]);
  expect(schema.additionalProperties).toBe(false);
  const batch = doc.paths["/v1/checkins/batch"].post.requestBody.content["application/json"].schema;
  expect(batch.properties.scans).toMatchObject({ type: "array", minItems: 1, maxItems: 500 });
  const refund = doc.paths["/v1/orders/{orderId}/refunds"].post;
  // Every answer it can give: 200 for the same refund again, 413 for a body too large, 422 for a reused key.
  expect(Object.keys(refund.responses).sort()).toEqual([
    "200",
    "201",
    "400",
    "401",
    "404",
    "409",
    "410",
    "413",
    "422",
    "500",
    "502",
  ]);
  expect(refund.security).toEqual([{ organiser: [] }]);
  const audit = doc.paths["/v1/events/{eventId}/audit"].get;
  expect(audit.parameters.map((p: { name: string }) => p.name)).toEqual(["eventId", "limit", "cursor", "action"]);
});
