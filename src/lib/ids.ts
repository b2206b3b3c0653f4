/**
 * Identifiers and bearer tokens. IDs are opaque and unguessable (128 bits of randomness, base62);
 * tokens carry 256 bits, are shown once and stored only as SHA-256 hashes.
 */

import { toBase64Url } from "./encoding";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** 22 base62 characters hold 130.9 bits; we fill them from 17 random bytes. */
const ID_CHARS = 22;

/** `whe`: a webhook endpoint; `whd`: one message's delivery to one endpoint; `eml`: a ticket e-mail. */
export type IdPrefix =
  | "evt"
  | "tier"
  | "rsv"
  | "aud"
  | "ord"
  | "tkt"
  | "scn"
  | "chk"
  | "rfd"
  | "qen"
  | "whe"
  | "whd"
  | "eml";

function base62(bytes: Uint8Array, length: number): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = "";
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

export function newId(prefix: IdPrefix): string {
  return idFrom(prefix, crypto.getRandomValues(new Uint8Array(17)));
}

/** An id made from given bytes (at least 17, from a random or keyed source). */
export function idFrom(prefix: IdPrefix, bytes: Uint8Array): string {
  return `${prefix}_${base62(bytes.subarray(0, 17), ID_CHARS)}`;
}

/** A pattern that accepts exactly the ids `newId(prefix)` makes. */
export function idPattern(prefix: IdPrefix): RegExp {
  return new RegExp(`^${prefix}_[0-9A-Za-z]{${ID_CHARS}}$`);
}

export type TokenKind = "rsv" | "ord";

export function newToken(kind: TokenKind): string {
  return tokenFrom(kind, crypto.getRandomValues(new Uint8Array(32)));
}

/** A token made from 32 given bytes (random, or keyed so that a retry makes the same one). */
export function tokenFrom(kind: TokenKind, bytes: Uint8Array): string {
  return `${kind}tok_${toBase64Url(bytes.subarray(0, 32))}`;
}

export function tokenKind(token: string): TokenKind | null {
  if (token.startsWith("rsvtok_")) return "rsv";
  if (token.startsWith("ordtok_")) return "ord";
  return null;
}

/**
 * A scanner's token names its scanner (`scntok_<id>_<secret>`), so a check-in can name the scanner it
 * must find unrevoked in the same statement that admits the ticket. The secret part is 256 random bits.
 */
export function scannerToken(scannerId: string, bytes: Uint8Array): string {
  return `scntok_${scannerId.slice("scn_".length)}_${toBase64Url(bytes.subarray(0, 32))}`;
}

const SCANNER_TOKEN = new RegExp(`^scntok_([0-9A-Za-z]{${ID_CHARS}})_[A-Za-z0-9_-]{43}$`);

/** The scanner id a token claims (to be proven against the stored hash), or null if it is no scanner token. */
export function scannerIdOf(token: string): string | null {
  const match = SCANNER_TOKEN.exec(token);
  return match ? `scn_${match[1]}` : null;
}

export async function sha256Hex(input: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two secrets without leaking, through timing, how much of them matched. */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([sha256Hex(a), sha256Hex(b)]);
  const enc = new TextEncoder();
  return crypto.subtle.timingSafeEqual(enc.encode(ha), enc.encode(hb));
}

/** Bytes derived from a secret seed for one purpose: different labels give unrelated bytes. */
export async function derivedBytes(seed: Uint8Array, label: string): Promise<Uint8Array> {
  const labelBytes = new TextEncoder().encode(`\n${label}`);
  const input = new Uint8Array(seed.length + labelBytes.length);
  input.set(seed);
  input.set(labelBytes, seed.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
}

/** A UUID (version 4 layout) made from at least 16 given bytes: the same bytes, the same UUID. */
export function uuidFrom(bytes: Uint8Array): string {
  const b = Uint8Array.from(bytes.subarray(0, 16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
