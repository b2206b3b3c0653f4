/**
 * The TierInventory object's own SQLite schema, versioned: each entry runs once, in order, under
 * `blockConcurrencyWhile` when the object starts. Append new versions; never edit a shipped one.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tier (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    price INTEGER NOT NULL,
    kind TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    max_per_order INTEGER NOT NULL,
    sales_start_at INTEGER,
    sales_end_at INTEGER,
    hold_seconds INTEGER NOT NULL,
    max_extensions INTEGER NOT NULL,
    extension_seconds INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    currency TEXT NOT NULL,
    event_max_per_order INTEGER NOT NULL,
    held INTEGER NOT NULL DEFAULT 0,
    sold INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE seats (
    label TEXT PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'available',
    reservation_id TEXT
  );
  CREATE INDEX seats_by_status ON seats (status, position);
  CREATE TABLE holds (
    reservation_id TEXT PRIMARY KEY,
    lead_tier_id TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    seats TEXT,
    status TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX holds_by_expiry ON holds (status, expires_at);
  CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    row TEXT NOT NULL
  );
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
  );
  `,
  // v2: orders this tier leads (the reservation's checkout), one per reservation.
  `
  CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    reservation_id TEXT NOT NULL UNIQUE,
    row TEXT NOT NULL
  );
  `,
  // v3: calls to Stripe that decisions require (refund, expire a session), run until Stripe answers.
  `
  CREATE TABLE stripe_tasks (
    id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL
  );
  `,
  // v4: one fulfilment of an order at a time (a lease, taken by the delivery that fulfils it).
  `
  CREATE TABLE fulfilments (
    order_id TEXT PRIMARY KEY,
    lease_until INTEGER NOT NULL
  );
  `,
  // v5: refunds. Each refunded ticket once (its capacity returned once); each refund of an order this
  // tier leads once; and how many holds were refused for want of capacity (for the organiser's stats).
  `
  CREATE TABLE refunded_tickets (
    ticket_id TEXT PRIMARY KEY,
    refund_id TEXT NOT NULL,
    reservation_id TEXT NOT NULL
  );
  CREATE TABLE order_refunds (
    refund_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    tickets INTEGER NOT NULL
  );
  CREATE INDEX order_refunds_by_order ON order_refunds (order_id);
  ALTER TABLE tier ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
  `,
  // The event's order limit is checked in the Worker (it can change; the tier's copy could not follow).
  `
  ALTER TABLE tier DROP COLUMN event_max_per_order;
  `,
];

/** Whether the object has a schema yet (it gets one only once it is initialised for a real tier). */
export function hasSchema(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").toArray().length > 0;
}

export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const current = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0]?.version ?? 0;
  for (let v = current; v < MIGRATIONS.length; v++) {
    sql.exec(MIGRATIONS[v] as string);
  }
  if (current === 0) sql.exec("INSERT INTO schema_version (version) VALUES (?)", MIGRATIONS.length);
  else if (current < MIGRATIONS.length) sql.exec("UPDATE schema_version SET version = ?", MIGRATIONS.length);
}
