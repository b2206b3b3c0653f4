/**
 * A receiver of the service's outgoing webhooks on this machine (the organiser's system, as the load
 * suite stands for it): an HTTP server on 127.0.0.1 that verifies each message with `standardwebhooks`
 * (the specification's reference library) and answers 200. The service must allow local receivers
 * (`WEBHOOK_ALLOW_LOCAL=true`, which the load servers set).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
  verified: boolean;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Verifies what arrives from now on with the endpoint's secret. */
  useSecret(secret: string): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let webhook: Webhook | null = null;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(
        ["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [h, String(req.headers[h] ?? "")]),
      );
      let verified = false;
      try {
        webhook?.verify(body, headers);
        verified = webhook !== null;
      } catch {
        verified = false;
      }
      const message = JSON.parse(body) as { type: string; data: Record<string, unknown> };
      received.push({ id: headers["webhook-id"] ?? "", type: message.type, data: message.data, verified });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    useSecret(secret) {
      webhook = new Webhook(secret);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
