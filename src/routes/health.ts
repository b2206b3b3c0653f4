import { Hono } from "hono";

export const health = new Hono<{ Bindings: Env }>().get("/healthz", (c) => c.json({ ok: true }));
