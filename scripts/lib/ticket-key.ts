import { generateKeyPairSync, randomBytes } from "node:crypto";

/**
 * A fresh `TICKET_SIGNING_KEY`: an Ed25519 private JWK with a `kid`, as one line of JSON (the shape
 * `src/lib/ticket-codes.ts` reads). For development, tests and benchmarks; never a deployed key.
 */
export function generateTicketSigningKey(kidPrefix = "dev"): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const { kty, crv, d, x } = privateKey.export({ format: "jwk" });
  return JSON.stringify({ kty, crv, d, x, kid: `${kidPrefix}-${randomBytes(4).toString("hex")}` });
}
