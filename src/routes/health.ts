import { Health } from "./bodies";
import { operation, Routes } from "./operation";

const liveness = operation({
  method: "get",
  path: "/healthz",
  summary: "Liveness",
  auth: "none",
  responses: { 200: { description: "Up", body: Health } },
});

export const health = new Routes().on(liveness, (c) => c.json({ ok: true }));
