/**
 * What the local servers need to know about the Worker, read from wrangler.toml through wrangler's
 * own parser, and the secrets they give it (random values, never the developer's `.dev.vars`).
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { generateTicketSigningKey } from "../../scripts/lib/ticket-key.ts";

export interface WorkerConfig {
  name: string;
  main: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, unknown>;
  requiredSecrets: string[];
  d1: { binding: string; databaseId: string; migrationsDir: string }[];
  durableObjects: { binding: string; className: string; sqlite: boolean }[];
  /** Rate Limiting bindings (`[[ratelimits]]`): `limit` requests a key per `period` seconds. */
  ratelimits: { binding: string; namespaceId: string; limit: number; period?: 10 | 60 }[];
  /** Queue producers (`[[queues.producers]]`) and the consumers of this Worker (`[[queues.consumers]]`). */
  queueProducers: { binding: string; queue: string }[];
  queueConsumers: { queue: string; maxBatchSize?: number; maxBatchTimeout?: number; maxRetries?: number }[];
  /** E-mail sending bindings (`[[send_email]]`), with their restrictions; Miniflare simulates them locally. */
  sendEmail: SendEmailBinding[];
}

/** As Miniflare takes it: a fixed destination, or an allowlist of them, not both. */
export type SendEmailBinding = { name: string; allowed_sender_addresses?: string[] } & (
  | { destination_address?: string; allowed_destination_addresses?: never }
  | { allowed_destination_addresses?: string[]; destination_address?: never }
);

/** The fields of wrangler's parsed config this file reads. */
interface WranglerConfig {
  name?: string;
  main?: string;
  compatibility_date?: string;
  compatibility_flags?: string[];
  vars?: Record<string, unknown>;
  secrets?: { required?: string[] };
  d1_databases?: { binding: string; database_id?: string; database_name?: string; migrations_dir?: string }[];
  durable_objects?: { bindings?: { name: string; class_name: string; script_name?: string }[] };
  migrations?: { new_sqlite_classes?: string[] }[];
  ratelimits?: { name: string; namespace_id: string; simple: { limit: number; period?: 10 | 60 } }[];
  queues?: {
    producers?: { binding: string; queue: string }[];
    consumers?: { queue: string; max_batch_size?: number; max_batch_timeout?: number; max_retries?: number }[];
  };
  send_email?: {
    name: string;
    destination_address?: string;
    allowed_destination_addresses?: string[];
    allowed_sender_addresses?: string[];
    remote?: boolean;
  }[];
  [key: string]: unknown;
}

/** Binding kinds the Miniflare servers do not map yet: add them here when the Worker gains one. */
const UNMAPPED_BINDINGS = [
  "kv_namespaces",
  "r2_buckets",
  "services",
  "workflows",
  "hyperdrive",
  "vectorize",
  "analytics_engine_datasets",
];

export async function readWorkerConfig(root: string): Promise<WorkerConfig> {
  // The specifier is a variable so that TypeScript does not load wrangler's own (large) type graph.
  const specifier = "wrangler";
  const wrangler = (await import(specifier)) as {
    unstable_readConfig(args: { config?: string }, options?: { hideWarnings?: boolean }): WranglerConfig;
  };
  const configPath = path.join(root, "wrangler.toml");
  const c = wrangler.unstable_readConfig({ config: configPath }, { hideWarnings: true });
  const unmapped = UNMAPPED_BINDINGS.filter((key) => isSet(c[key]));
  if (unmapped.length > 0) {
    throw new Error(`wrangler.toml has ${unmapped.join(", ")}: map them in startMiniflare (load/serve/miniflare.ts)`);
  }
  if (!c.main || !c.compatibility_date) throw new Error("wrangler.toml must set main and compatibility_date");
  const sqliteClasses = new Set((c.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
  return {
    name: c.name ?? "worker",
    main: path.resolve(root, c.main),
    compatibilityDate: c.compatibility_date,
    compatibilityFlags: c.compatibility_flags ?? [],
    vars: { ...(c.vars ?? {}) },
    requiredSecrets: c.secrets?.required ?? [],
    d1: (c.d1_databases ?? []).map((d) => ({
      binding: d.binding,
      databaseId: d.database_id ?? d.database_name ?? d.binding,
      migrationsDir: path.resolve(root, d.migrations_dir ?? "migrations"),
    })),
    durableObjects: (c.durable_objects?.bindings ?? []).map((b) => {
      if (b.script_name) throw new Error(`Durable Object ${b.name} lives in another Worker: not supported here`);
      return { binding: b.name, className: b.class_name, sqlite: sqliteClasses.has(b.class_name) };
    }),
    ratelimits: (c.ratelimits ?? []).map((r) => ({
      binding: r.name,
      namespaceId: r.namespace_id,
      limit: r.simple.limit,
      period: r.simple.period,
    })),
    queueProducers: (c.queues?.producers ?? []).map((p) => ({ binding: p.binding, queue: p.queue })),
    queueConsumers: (c.queues?.consumers ?? []).map((q) => ({
      queue: q.queue,
      maxBatchSize: q.max_batch_size,
      maxBatchTimeout: q.max_batch_timeout,
      maxRetries: q.max_retries,
    })),
    sendEmail: (c.send_email ?? []).map((b): SendEmailBinding => {
      if (b.remote) throw new Error(`send_email ${b.name} is remote: the local servers send no real mail`);
      const senders =
        b.allowed_sender_addresses === undefined ? {} : { allowed_sender_addresses: b.allowed_sender_addresses };
      if (b.destination_address !== undefined) {
        return { name: b.name, ...senders, destination_address: b.destination_address };
      }
      if (b.allowed_destination_addresses !== undefined) {
        return { name: b.name, ...senders, allowed_destination_addresses: b.allowed_destination_addresses };
      }
      return { name: b.name, ...senders };
    }),
  };
}

function isSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value && typeof value === "object") return Object.keys(value).length > 0;
  return value !== undefined && value !== null && value !== false;
}

/** Secrets that must have a particular shape; any other gets a random string. */
const SECRET_MAKERS: Readonly<Record<string, () => string>> = {
  TICKET_SIGNING_KEY: () => generateTicketSigningKey("bench"),
  // Shaped like Stripe's; the bench signs its webhooks with this one (ScenarioContext.webhookSecret).
  STRIPE_WEBHOOK_SECRET: () => `whsec_bench${randomBytes(24).toString("base64url")}`,
  STRIPE_SECRET_KEY: () => `sk_test_bench${randomBytes(12).toString("hex")}`,
};

/** Fresh values for wrangler.toml's required secrets, one set per server. */
export function makeSecrets(config: WorkerConfig): Record<string, string> {
  return Object.fromEntries(
    config.requiredSecrets.map((name) => [
      name,
      SECRET_MAKERS[name]?.() ?? `bench-${name.toLowerCase()}-${randomBytes(12).toString("hex")}`,
    ]),
  );
}

/**
 * The `[vars]` the bench overrides on every server: Stripe is the in-process simulator (no network),
 * whose checkout pages would be served by the server itself at `url`; webhook endpoints on this machine
 * are allowed (the load suite's receiver); the ticket e-mails go to the mail simulator (kept in D1 for
 * `GET /dev/mail`, nothing sent), their links to the server itself.
 */
export function benchVars(url: string): Record<string, string> {
  return {
    STRIPE_MODE: "simulator",
    SIMULATOR_ORIGIN: url,
    WEBHOOK_ALLOW_LOCAL: "true",
    MAIL_MODE: "simulator",
    MAIL_FROM: "tickets@boxoffice.localhost",
    PUBLIC_ORIGIN: url,
  };
}
