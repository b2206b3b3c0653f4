import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url } from "../src/lib/encoding";
import { publicTicketKeys, signTicketCode, type TicketClaims, verifyTicketCode } from "../src/lib/ticket-codes";
import { api, createEvent } from "./helpers";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomId(prefix: "tkt" | "evt"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(22));
  return `${prefix}_${[...bytes].map((b) => BASE62[b % 62]).join("")}`;
}

function claims(): TicketClaims {
  return { ticketId: randomId("tkt"), eventId: randomId("evt") };
}

/** A fresh Ed25519 key pair made with crypto.subtle: its private JWK (with `kid`) and its public JWK. */
async function generatedKey(kid: string) {
  const pair = (await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  const { kty, crv, d, x } = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { privateJwk: JSON.stringify({ kty, crv, d, x, kid }), publicJwk: { kty, crv, x, kid } };
}

const current = JSON.parse(env.TICKET_SIGNING_KEY) as { kid: string; x: string; d: string };
const CODE = /^v1\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{46}\.[A-Za-z0-9_-]{86}$/;

describe("ticket codes", () => {
  it("round-trips the claims, deterministically, in a compact code", async () => {
    const keys = await publicTicketKeys(env);
    const c = claims();
    const code = await signTicketCode(env, c);
    expect(code).toMatch(CODE);
    expect(code.split(".")[1]).toBe(current.kid);
    expect(code).toHaveLength(3 + current.kid.length + 1 + 46 + 1 + 86);
    expect(await signTicketCode(env, c)).toBe(code);
    expect(await verifyTicketCode(keys, code)).toEqual(c);
    // Ids at both ends of the range survive the packing.
    const edges = { ticketId: `tkt_${"0".repeat(22)}`, eventId: `evt_${"z".repeat(22)}` };
    expect(await verifyTicketCode(keys, await signTicketCode(env, edges))).toEqual(edges);
  });

  it("refuses ids that are not ticket and event ids", async () => {
    await expect(signTicketCode(env, { ticketId: "tkt_short", eventId: randomId("evt") })).rejects.toThrow(TypeError);
    await expect(signTicketCode(env, { ticketId: randomId("tkt"), eventId: randomId("tkt") })).rejects.toThrow(
      TypeError,
    );
  });

  it("refuses a code with any one character altered", async () => {
    const keys = await publicTicketKeys(env);
    const code = await signTicketCode(env, claims());
    for (let i = 0; i < code.length; i++) {
      for (const replacement of code[i] === "." ? ["A", "_"] : [code[i] === "A" ? "B" : "A", "."]) {
        const altered = code.slice(0, i) + replacement + code.slice(i + 1);
        expect(await verifyTicketCode(keys, altered), `position ${i} → ${replacement}`).toBeNull();
      }
    }
    // Each piece's last character carries spare bits: flipping only those must fail too (canonical base64url).
    const [version, kid, ids = "", sig = ""] = code.split(".");
    const respell = (piece: string) => {
      const last = BASE64URL.indexOf(piece.at(-1) ?? "A");
      return piece.slice(0, -1) + BASE64URL[last ^ 1];
    };
    expect(await verifyTicketCode(keys, [version, kid, respell(ids), sig].join("."))).toBeNull();
    expect(await verifyTicketCode(keys, [version, kid, ids, respell(sig)].join("."))).toBeNull();
    // A valid signature moved onto another code's ids fails.
    const other = (await signTicketCode(env, claims())).split(".");
    expect(await verifyTicketCode(keys, [version, kid, other[2], sig].join("."))).toBeNull();
  });

  it("refuses codes signed by another key, under the current kid or an unknown one", async () => {
    const keys = await publicTicketKeys(env);
    const c = claims();
    const forger = await generatedKey(current.kid);
    const forged = await signTicketCode({ TICKET_SIGNING_KEY: forger.privateJwk }, c);
    expect(forged.split(".")[1]).toBe(current.kid);
    expect(await verifyTicketCode(keys, forged)).toBeNull();
    const stranger = await generatedKey("someone-else");
    const unknown = await signTicketCode({ TICKET_SIGNING_KEY: stranger.privateJwk }, c);
    expect(await verifyTicketCode(keys, unknown)).toBeNull();
    // And a genuine code under a kid the list does not have.
    const genuine = await signTicketCode(env, c);
    expect(await verifyTicketCode([], genuine)).toBeNull();
    expect(await verifyTicketCode([{ ...keys[0], kid: "other" } as (typeof keys)[0]], genuine)).toBeNull();
  });

  it("answers null, without throwing, for garbage", async () => {
    const keys = await publicTicketKeys(env);
    const code = await signTicketCode(env, claims());
    const garbage = [
      "",
      "a.b",
      "x".repeat(10 * 1024),
      ".".repeat(10 * 1024),
      `${code}.`,
      `${code}.${code}`,
      code.replace(/^v1\./, "v2."),
      code.replace(/^v1\./, ""),
      `v1..${code.split(".").slice(2).join(".")}`,
      `v1.${"k".repeat(65)}.${code.split(".").slice(2).join(".")}`,
      code.slice(0, -1),
      `${code}A`,
      `v1.${current.kid}.${"/".repeat(46)}.${"+".repeat(86)}`,
      `v1.${current.kid}.${"_".repeat(46)}.${"_".repeat(86)}`, // ids beyond any base62 id
      "v1.kid.ids.sig",
      "\u0000\u{1F600}",
      null as unknown as string,
      42 as unknown as string,
    ];
    for (const input of garbage) {
      expect(await verifyTicketCode(keys, input), JSON.stringify(input)?.slice(0, 40)).toBeNull();
    }
    // A malformed published key is a failed verification, not an exception.
    const broken = [{ kid: current.kid, alg: "Ed25519" as const, publicKey: "not a key" }];
    expect(await verifyTicketCode(broken, code)).toBeNull();
  });

  it("keeps verifying codes of a retired key after a rotation", async () => {
    const old = await generatedKey("2026-old");
    const c = claims();
    const oldCode = await signTicketCode({ TICKET_SIGNING_KEY: old.privateJwk }, c);
    const rotated = {
      TICKET_SIGNING_KEY: env.TICKET_SIGNING_KEY,
      TICKET_RETIRED_KEYS: JSON.stringify([old.publicJwk]),
    };
    const keys = await publicTicketKeys(rotated);
    expect(keys).toEqual([
      { kid: current.kid, alg: "Ed25519", publicKey: current.x },
      { kid: "2026-old", alg: "Ed25519", publicKey: old.publicJwk.x },
    ]);
    expect(await verifyTicketCode(keys, oldCode)).toEqual(c);
    expect(await verifyTicketCode(keys, await signTicketCode(rotated, c))).toEqual(c);
    // Without the retired key, the old code no longer verifies.
    expect(await verifyTicketCode(await publicTicketKeys(env), oldCode)).toBeNull();
  });

  it("refuses unusable key configuration loudly", async () => {
    const other = await generatedKey("other");
    const mismatched = JSON.stringify({ ...JSON.parse(other.privateJwk), d: current.d });
    const badSigning = ["", "{}", "not json", '{"kty":"OKP","crv":"Ed25519","d":"AA","x":"AA","kid":"k"}', mismatched];
    for (const TICKET_SIGNING_KEY of badSigning) {
      await expect(signTicketCode({ TICKET_SIGNING_KEY }, claims()), TICKET_SIGNING_KEY).rejects.toThrow(
        /TICKET_SIGNING_KEY/,
      );
    }
    const noKid = JSON.stringify({ ...JSON.parse(other.privateJwk), kid: undefined });
    await expect(signTicketCode({ TICKET_SIGNING_KEY: noKid }, claims())).rejects.toThrow(/kid/);
    const badRetired = [
      "{}",
      JSON.stringify([JSON.parse(other.privateJwk)]), // a private key in a plain var
      JSON.stringify([{ ...other.publicJwk, kid: current.kid }]), // the current kid again
      JSON.stringify([other.publicJwk, other.publicJwk]),
      JSON.stringify([{ ...other.publicJwk, x: "short" }]),
    ];
    for (const TICKET_RETIRED_KEYS of badRetired) {
      await expect(
        publicTicketKeys({ TICKET_SIGNING_KEY: env.TICKET_SIGNING_KEY, TICKET_RETIRED_KEYS }),
        TICKET_RETIRED_KEYS,
      ).rejects.toThrow(/TICKET_RETIRED_KEYS/);
    }
  });
});

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** What a scanner would do offline, written from the format's description alone. */
async function scannerVerifies(keys: { kid: string; publicKey: string }[], code: string) {
  const [version, kid, ids = "", sig = ""] = code.split(".");
  const published = keys.find((k) => k.kid === kid);
  if (version !== "v1" || !published) return null;
  const key = await crypto.subtle.importKey("raw", fromBase64Url(published.publicKey), "Ed25519", false, ["verify"]);
  const signed = new TextEncoder().encode(`${version}.${kid}.${ids}`);
  if (!(await crypto.subtle.verify("Ed25519", key, fromBase64Url(sig), signed))) return null;
  const bytes = fromBase64Url(ids);
  const base62 = (part: Uint8Array) => {
    let n = part.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
    let out = "";
    for (let i = 0; i < 22; i++, n /= 62n) out = BASE62[Number(n % 62n)] + out;
    return out;
  };
  return { ticketId: `tkt_${base62(bytes.subarray(0, 17))}`, eventId: `evt_${base62(bytes.subarray(17))}` };
}

describe("GET /v1/events/:eventId/checkin-keys", () => {
  it("publishes exactly the current public key, which verifies codes with plain crypto.subtle", async () => {
    const event = await createEvent([{ capacity: 5 }]);
    const res = await api("GET", `/v1/events/${event.id}/checkin-keys`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.body).toEqual({ keys: [{ kid: current.kid, alg: "Ed25519", publicKey: current.x }] });
    const c = { ticketId: randomId("tkt"), eventId: event.id };
    const code = await signTicketCode(env, c);
    expect(await scannerVerifies(res.body.keys, code)).toEqual(c);
    const tampered = code.slice(0, 10) + (code[10] === "A" ? "B" : "A") + code.slice(11);
    expect(await scannerVerifies(res.body.keys, tampered)).toBeNull();
    expect(toBase64Url(fromBase64Url(res.body.keys[0].publicKey))).toHaveLength(43); // 32 bytes
  });

  it("is 404 for an unknown event and 400 for a malformed id", async () => {
    const unknown = await api("GET", `/v1/events/${randomId("evt")}/checkin-keys`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("Content-Type")).toBe("application/problem+json");
    expect(unknown.body).toMatchObject({ status: 404, code: "NOT_FOUND" });
    const malformed = await api("GET", "/v1/events/evt_nope/checkin-keys");
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("Content-Type")).toBe("application/problem+json");
    expect(malformed.body).toMatchObject({ status: 400, code: "INVALID_INPUT", errors: [{ path: "eventId" }] });
  });
});
