/**
 * The drop queue's credentials, keyed from APP_SECRET and checked by their MAC alone (no storage):
 *
 * - an admission pass (`adm_<payload>.<mac>`): its event and queue generation, its queue entry, when
 *   it lapses and how many reservations it allows. A reservation on a queued event must carry one.
 * - a queue entry's token (`qentok_<route>.<mac>`): proves the entry is the bearer's and says where
 *   the entry lives (event, queue generation, shard count), so a poll reaches its shard, or is
 *   refused, without any lookup.
 *
 * An entry's shard is a function of its id (`shardOf`), so anything that knows an entry's id and its
 * queue's shard count can address it.
 */
import { fromBase64Url, toBase64Url, utf8 } from "./encoding";
import { hmac } from "./secret-box";

export interface AdmissionPass {
  eventId: string;
  generation: number;
  entryId: string;
  expiresAt: number;
  reservations: number;
}

export interface EntryRoute {
  eventId: string;
  generation: number;
  shards: number;
}

const PASS = /^adm_([A-Za-z0-9_-]{1,600})\.([A-Za-z0-9_-]{43})$/;
const ENTRY_TOKEN = /^qentok_([A-Za-z0-9_-]{1,300})\.([A-Za-z0-9_-]{43})$/;

async function mac(secret: string, purpose: string, payload: string): Promise<string> {
  return toBase64Url(await hmac(secret, `${purpose}\n${payload}`));
}

/** Compares two MACs (equal-length base64url strings) in constant time. */
function sameMac(a: string, b: string): boolean {
  const x = utf8(a);
  const y = utf8(b);
  return x.length === y.length && crypto.subtle.timingSafeEqual(x, y);
}

export async function signPass(secret: string, pass: AdmissionPass): Promise<string> {
  const payload = toBase64Url(
    utf8(JSON.stringify([pass.eventId, pass.generation, pass.entryId, pass.expiresAt, pass.reservations])),
  );
  return `adm_${payload}.${await mac(secret, "admission-pass", payload)}`;
}

/** The pass, if `text` is one this deployment signed (whatever its event or expiry); else null. */
export async function readPass(secret: string, text: string): Promise<AdmissionPass | null> {
  const m = PASS.exec(text);
  if (!m) return null;
  const [, payload, tag] = m as unknown as [string, string, string];
  if (!sameMac(await mac(secret, "admission-pass", payload), tag)) return null;
  const [eventId, generation, entryId, expiresAt, reservations] = JSON.parse(
    new TextDecoder().decode(fromBase64Url(payload)),
  ) as [string, number, string, number, number];
  return { eventId, generation, entryId, expiresAt, reservations };
}

export async function entryToken(secret: string, entryId: string, route: EntryRoute): Promise<string> {
  const payload = toBase64Url(utf8(JSON.stringify([route.eventId, route.generation, route.shards])));
  return `qentok_${payload}.${await mac(secret, "queue-entry", `${entryId}\n${payload}`)}`;
}

/** Where the entry lives, if `token` is the entry's own token; else null. */
export async function readEntryToken(secret: string, entryId: string, token: string): Promise<EntryRoute | null> {
  const m = ENTRY_TOKEN.exec(token);
  if (!m) return null;
  const [, payload, tag] = m as unknown as [string, string, string];
  if (!sameMac(await mac(secret, "queue-entry", `${entryId}\n${payload}`), tag)) return null;
  const [eventId, generation, shards] = JSON.parse(new TextDecoder().decode(fromBase64Url(payload))) as [
    string,
    number,
    number,
  ];
  return { eventId, generation, shards };
}

/** The entry's shard: FNV-1a of its id, modulo the queue's shard count. */
export function shardOf(entryId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < entryId.length; i++) {
    h ^= entryId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}
