/**
 * Keyed derivations from the deployment's APP_SECRET: HMAC for ids and tokens that must come out
 * the same on a retry, and AES-GCM (key from HKDF) for values stored at rest that must not be
 * readable from the database alone, such as an idempotent replay that carries a bearer token.
 */
import { fromBase64Url, toBase64Url, utf8 } from "./encoding";
import { idFrom } from "./ids";

const hmacKeys = new Map<string, Promise<CryptoKey>>();
const hkdfKeys = new Map<string, Promise<CryptoKey>>();

function cached(cache: Map<string, Promise<CryptoKey>>, secret: string, make: () => Promise<CryptoKey>) {
  let key = cache.get(secret);
  if (!key) {
    key = make();
    cache.set(secret, key);
  }
  return key;
}

export async function hmac(secret: string, message: string): Promise<Uint8Array> {
  const key = await cached(hmacKeys, secret, () =>
    crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(message)));
}

async function boxKey(secret: string, context: string): Promise<CryptoKey> {
  const base = await cached(hkdfKeys, secret, () =>
    crypto.subtle.importKey("raw", utf8(secret), "HKDF", false, ["deriveKey"]),
  );
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(context) },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** Encrypts `plaintext` so that only someone with the secret and the same `context` can read it. */
export async function seal(secret: string, context: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await boxKey(secret, context), utf8(plaintext));
  return `${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

export async function unseal(secret: string, context: string, sealed: string): Promise<string> {
  const [iv, data] = sealed.split(".");
  if (!iv || !data) throw new Error("not a sealed value");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64Url(iv) },
    await boxKey(secret, context),
    fromBase64Url(data),
  );
  return new TextDecoder().decode(plain);
}

/** A refund's id, from its order and what makes it this refund (`key`): the same on every retry. */
export async function refundIdFor(secret: string, orderId: string, key: string): Promise<string> {
  return idFrom("rfd", await hmac(secret, `refund\n${orderId}\n${key}`));
}

/** The id of the one refund of an order's refused payment (an order has one payment: its session's). */
export const refusedPaymentRefundId = (secret: string, orderId: string) => refundIdFor(secret, orderId, "payment");
