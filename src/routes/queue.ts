import { joinQueue, pollEntry } from "../domain/drops/queue";
import { readBody, readParam } from "../lib/validate";
import { bearerToken } from "../middleware/auth";
import { clientOf } from "../middleware/rate-limit";
import { idOf } from "../schemas/common";
import { QueueJoinInput } from "../schemas/queue";
import { QueueEntry } from "./bodies";
import { operation, Routes } from "./operation";
import { queueEntryView } from "./views";

const join = operation({
  method: "post",
  path: "/v1/events/:eventId/queue",
  summary: "Join the event's queue (joining again with the same sessionId answers the same entry)",
  auth: "none",
  limit: "buyer",
  params: { eventId: idOf("evt") },
  body: QueueJoinInput,
  responses: {
    201: { description: "The new entry, with its token", body: QueueEntry },
    200: { description: "The session's entry, with its token", body: QueueEntry },
  },
  errors: ["BOT_CHECK_FAILED"],
});

const poll = operation({
  method: "get",
  path: "/v1/queue/:entryId",
  summary: "A queue entry: its place, and its admission pass once admitted",
  auth: "queue entry",
  limit: "polling",
  params: { entryId: idOf("qen") },
  responses: { 200: { description: "The entry", body: QueueEntry } },
});

export const queueRoutes = new Routes()
  .on(join, async (c) => {
    const eventId = readParam(c, "eventId", join.params.eventId);
    const input = await readBody(c, join.body);
    const who = { client: clientOf(c), remoteIp: c.req.header("CF-Connecting-IP") ?? null };
    const { created, entry, token } = await joinQueue(c.env, c.get("db"), eventId, input, who);
    return c.json(queueEntryView(entry, token), created ? 201 : 200);
  })
  .on(poll, async (c) => {
    const entryId = readParam(c, "entryId", poll.params.entryId);
    return c.json(queueEntryView(await pollEntry(c.env, entryId, bearerToken(c))));
  });
