/**
 * Signed ticket codes (DESIGN.md decision 9). A code is signed with the deployment's Ed25519 key, so a
 * scanner verifies it offline with the public keys from `GET /v1/events/:eventId/checkin-keys`, and a
 * forged or altered code is refused before any database read.
 *
 * Format, four base64url pieces joined by `.` (URL- and QR-safe, no padding):
 *
 *     v1.<kid>.<ids>.<sig>
 *
 * - `v1`: the format version;
 * - `<kid>`: the signing key's `kid`, as is (so it is limited to the base64url alphabet, 1–64 characters);
 * - `<ids>`: 34 bytes, base64url (46 characters): the ticket id's 22 base62 characters read as a 17-byte
 *   big-endian number, then the event id's likewise (the `tkt_` / `evt_` prefixes are implied);
 * - `<sig>`: the 64-byte Ed25519 signature (86 characters) over the ASCII text `v1.<kid>.<ids>`, so the
 *   version and the kid are signed too.
 *
 * With a 12-character kid (`dev-1a2b3c4d`) a code is 149 characters.
 *
 * Key material: `TICKET_SIGNING_KEY` is a private Ed25519 JWK with a `kid`; `TICKET_RETIRED_KEYS` is a JSON
 * array of public JWKs (with `kid`, without `d`) whose codes stay valid after a rotation.
 */
import { fromBase64Url, toBase64Url, utf8 } from "./encoding";

export interface TicketClaims {
  ticketId: string;
  eventId: string;
}

export interface PublicTicketKey {
  kid: string;
  alg: "Ed25519";
  /** The raw 32-byte public key, base64url (the JWK's `x`). */
  publicKey: string;
}

const VERSION = "v1";
const KID = /^[A-Za-z0-9_-]{1,64}$/;
const TICKET_ID = /^tkt_[0-9A-Za-z]{22}$/;
const EVENT_ID = /^evt_[0-9A-Za-z]{22}$/;
const ID_BYTES = 17;
const ID_DIGITS = 22;
const IDS_CHARS = 46; // base64url of 2 × 17 bytes
const SIG_BYTES = 64;
const SIG_CHARS = 86;
const PUBLIC_KEY_BYTES = 32;
/** The longest code this version can make: anything longer is refused before it is split. */
const MAX_CODE_CHARS = VERSION.length + 1 + 64 + 1 + IDS_CHARS + 1 + SIG_CHARS;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const MAX_ID_VALUE = 62n ** BigInt(ID_DIGITS);

/** An id's 22 base62 characters as a 17-byte big-endian number (62^22 < 2^136, so it always fits). */
function idToBytes(digits: string, out: Uint8Array, offset: number): void {
  let n = 0n;
  for (const ch of digits) n = n * 62n + BigInt(BASE62.indexOf(ch));
  for (let i = ID_BYTES - 1; i >= 0; i--) {
    out[offset + i] = Number(n & 0xffn);
    n >>= 8n;
  }
}

/** The inverse of `idToBytes`; null for a number no id makes. */
function idFromBytes(bytes: Uint8Array): string | null {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  if (n >= MAX_ID_VALUE) return null;
  let out = "";
  for (let i = 0; i < ID_DIGITS; i++) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

/** base64url that decodes to exactly `length` bytes and is the canonical spelling of them; else null. */
function decodeExact(text: string, length: number): Uint8Array | null {
  try {
    const bytes = fromBase64Url(text);
    return bytes.length === length && toBase64Url(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}

function importPublicKey(x: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", x, { name: "Ed25519" }, false, ["verify"]);
}

interface SigningKey {
  kid: string;
  publicKey: string;
  key: CryptoKey;
}

const SELF_CHECK = utf8("boxoffice ticket signing key check");

async function loadSigningKey(material: string): Promise<SigningKey> {
  const bad = (why: string) => new Error(`TICKET_SIGNING_KEY is not usable: ${why}`);
  let jwk: unknown;
  try {
    jwk = JSON.parse(material);
  } catch {
    throw bad("it is not JSON");
  }
  if (!jwk || typeof jwk !== "object") throw bad("it is not a JSON object");
  const { kty, crv, d, x, kid } = jwk as Record<string, unknown>;
  if (kty !== "OKP" || crv !== "Ed25519") throw bad('it needs "kty": "OKP" and "crv": "Ed25519"');
  if (typeof d !== "string" || typeof x !== "string") throw bad('it needs "d" and "x" (a private JWK)');
  if (typeof kid !== "string" || !KID.test(kid)) throw bad('"kid" must be 1-64 characters of A-Z a-z 0-9 _ -');
  const raw = decodeExact(x, PUBLIC_KEY_BYTES);
  if (!raw) throw bad('"x" is not a 32-byte base64url key');
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("jwk", { kty, crv, d, x }, { name: "Ed25519" }, false, ["sign"]);
  } catch {
    throw bad("Ed25519 refused the JWK");
  }
  // A "d" that does not belong to "x" would publish a key that verifies nothing: check the pair once.
  const signature = await crypto.subtle.sign("Ed25519", key, SELF_CHECK);
  if (!(await crypto.subtle.verify("Ed25519", await importPublicKey(raw), signature, SELF_CHECK))) {
    throw bad('"d" and "x" are not one key pair');
  }
  return { kid, publicKey: x, key };
}

// Imported keys, per key material: parsing and importing happen once per isolate.
const signingKeys = new Map<string, Promise<SigningKey>>();
const verifyingKeys = new Map<string, Promise<CryptoKey | null>>();
const MAX_CACHED_VERIFYING_KEYS = 64;

function signingKey(material: string): Promise<SigningKey> {
  let loaded = signingKeys.get(material);
  if (!loaded) {
    loaded = loadSigningKey(material);
    signingKeys.set(material, loaded);
  }
  return loaded;
}

function verifyingKey(publicKey: string): Promise<CryptoKey | null> {
  let loaded = verifyingKeys.get(publicKey);
  if (!loaded) {
    const raw = decodeExact(publicKey, PUBLIC_KEY_BYTES);
    loaded = raw ? importPublicKey(raw).catch(() => null) : Promise.resolve(null);
    if (verifyingKeys.size >= MAX_CACHED_VERIFYING_KEYS) verifyingKeys.clear();
    verifyingKeys.set(publicKey, loaded);
  }
  return loaded;
}

/** A compact, QR-friendly code: signs the claims with the deployment's current Ed25519 key. Deterministic (Ed25519 signatures are), so a retry makes the same code. */
export async function signTicketCode(env: Pick<Env, "TICKET_SIGNING_KEY">, claims: TicketClaims): Promise<string> {
  if (!TICKET_ID.test(claims.ticketId)) throw new TypeError(`not a ticket id: ${claims.ticketId}`);
  if (!EVENT_ID.test(claims.eventId)) throw new TypeError(`not an event id: ${claims.eventId}`);
  const signer = await signingKey(env.TICKET_SIGNING_KEY);
  const ids = new Uint8Array(2 * ID_BYTES);
  idToBytes(claims.ticketId.slice(4), ids, 0);
  idToBytes(claims.eventId.slice(4), ids, ID_BYTES);
  const signed = `${VERSION}.${signer.kid}.${toBase64Url(ids)}`;
  const signature = await crypto.subtle.sign("Ed25519", signer.key, utf8(signed));
  return `${signed}.${toBase64Url(new Uint8Array(signature))}`;
}

/** The claims if `code` is well-formed and signed by one of `keys`; null otherwise (never throws on bad input). */
export async function verifyTicketCode(keys: PublicTicketKey[], code: string): Promise<TicketClaims | null> {
  try {
    if (typeof code !== "string" || code.length > MAX_CODE_CHARS) return null;
    const parts = code.split(".");
    if (parts.length !== 4) return null;
    const [version = "", kid = "", ids = "", sig = ""] = parts;
    if (version !== VERSION || !KID.test(kid) || ids.length !== IDS_CHARS || sig.length !== SIG_CHARS) return null;
    const idBytes = decodeExact(ids, 2 * ID_BYTES);
    const signature = decodeExact(sig, SIG_BYTES);
    if (!idBytes || !signature) return null;
    const ticket = idFromBytes(idBytes.subarray(0, ID_BYTES));
    const event = idFromBytes(idBytes.subarray(ID_BYTES));
    if (!ticket || !event) return null;
    const entry = keys.find((k) => k.kid === kid && k.alg === "Ed25519");
    if (!entry) return null;
    const key = await verifyingKey(entry.publicKey);
    if (!key) return null;
    const signed = code.slice(0, code.length - SIG_CHARS - 1);
    if (!(await crypto.subtle.verify("Ed25519", key, signature, utf8(signed)))) return null;
    return { ticketId: `tkt_${ticket}`, eventId: `evt_${event}` };
  } catch {
    return null;
  }
}

function retiredKeys(material: string): PublicTicketKey[] {
  const bad = (why: string) => new Error(`TICKET_RETIRED_KEYS is not usable: ${why}`);
  let list: unknown;
  try {
    list = JSON.parse(material);
  } catch {
    throw bad("it is not JSON");
  }
  if (!Array.isArray(list)) throw bad("it is not a JSON array");
  return list.map((jwk: unknown, i) => {
    if (!jwk || typeof jwk !== "object") throw bad(`entry ${i} is not a JSON object`);
    const { kty, crv, x, d, kid } = jwk as Record<string, unknown>;
    if (kty !== "OKP" || crv !== "Ed25519") throw bad(`entry ${i} needs "kty": "OKP" and "crv": "Ed25519"`);
    if (d !== undefined) throw bad(`entry ${i} has "d": list public keys only (drop "d")`);
    if (typeof x !== "string" || !decodeExact(x, PUBLIC_KEY_BYTES)) throw bad(`entry ${i} needs a 32-byte "x"`);
    if (typeof kid !== "string" || !KID.test(kid)) throw bad(`entry ${i} needs a "kid" of 1-64 A-Z a-z 0-9 _ -`);
    return { kid, alg: "Ed25519", publicKey: x };
  });
}

// The published list, per key material: every check-in asks for it, and it changes only with a deploy.
const publishedKeys = new Map<string, Promise<PublicTicketKey[]>>();

/** The verification keys to publish: the current key, plus any retired keys kept for codes already issued. */
export function publicTicketKeys(
  env: Pick<Env, "TICKET_SIGNING_KEY" | "TICKET_RETIRED_KEYS">,
): Promise<PublicTicketKey[]> {
  const material = `${env.TICKET_SIGNING_KEY}\n${env.TICKET_RETIRED_KEYS || "[]"}`;
  let keys = publishedKeys.get(material);
  if (!keys) {
    keys = loadPublicKeys(env);
    // A key that does not load is not remembered: the next request reports it again (500).
    keys.catch(() => publishedKeys.delete(material));
    publishedKeys.set(material, keys);
  }
  return keys;
}

async function loadPublicKeys(
  env: Pick<Env, "TICKET_SIGNING_KEY" | "TICKET_RETIRED_KEYS">,
): Promise<PublicTicketKey[]> {
  const current = await signingKey(env.TICKET_SIGNING_KEY);
  const keys: PublicTicketKey[] = [{ kid: current.kid, alg: "Ed25519", publicKey: current.publicKey }];
  for (const key of retiredKeys(env.TICKET_RETIRED_KEYS || "[]")) {
    if (keys.some((k) => k.kid === key.kid)) {
      throw new Error(`TICKET_RETIRED_KEYS is not usable: kid "${key.kid}" is listed twice (or is the current key's)`);
    }
    keys.push(key);
  }
  return keys;
}
