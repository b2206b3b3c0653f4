/**
 * Synchronous access to a TierInventory object's SQLite. Every method is a plain `sql.exec`, so a
 * decision built from them runs in one stretch with no `await` (DESIGN.md decision 1).
 */
import type { OrderRow, ReservationRow, TierRow } from "../db/schema";
import type { SeatState } from "./tier-rpc";

export type HoldStatus = "pending" | "active" | "sold" | "released" | "expired";

export interface Hold {
  reservationId: string;
  /** The tier that leads the reservation (this tier, or the one whose decisions this part follows). */
  leadTierId: string;
  quantity: number;
  seats: string[] | null;
  status: HoldStatus;
  expiresAt: number;
}

export interface TierCounters {
  capacity: number;
  held: number;
  sold: number;
  refusals: number;
}

export interface TierState {
  row: TierRow;
  currency: string;
  held: number;
  sold: number;
}

interface TierColumns extends Record<string, SqlStorageValue> {
  id: string;
  event_id: string;
  position: number;
  name: string;
  price: number;
  kind: string;
  capacity: number;
  max_per_order: number;
  sales_start_at: number | null;
  sales_end_at: number | null;
  hold_seconds: number;
  max_extensions: number;
  extension_seconds: number;
  version: number;
  created_at: number;
  updated_at: number;
  currency: string;
  held: number;
  sold: number;
  refused: number;
}

interface HoldColumns extends Record<string, SqlStorageValue> {
  reservation_id: string;
  lead_tier_id: string;
  quantity: number;
  seats: string | null;
  status: string;
  expires_at: number;
}

const toHold = (r: HoldColumns): Hold => ({
  reservationId: r.reservation_id,
  leadTierId: r.lead_tier_id,
  quantity: r.quantity,
  seats: r.seats === null ? null : (JSON.parse(r.seats) as string[]),
  status: r.status as HoldStatus,
  expiresAt: r.expires_at,
});

/** Orders stored before refunds and disputes existed lack their fields: they start at none. */
const ORDER_DEFAULTS: Pick<OrderRow, "refundedAmount" | "disputeId" | "disputedAt"> = {
  refundedAmount: 0,
  disputeId: null,
  disputedAt: null,
};

const toOrder = (json: string): OrderRow =>
  ({ ...ORDER_DEFAULTS, ...(JSON.parse(json) as Partial<OrderRow>) }) as OrderRow;

export class TierStore {
  /**
   * The tier row as stored, read once and then kept in step by the writes below (every write to the
   * tier table is one of them). The object decides one request at a time, so the copy is exact; a
   * decision that throws rolls its transaction back, and the object then calls `forget`.
   */
  private tierRow: TierColumns | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /**
   * The seats in seat order with their statuses, read once and kept in step by `setSeats` (a snapshot
   * of a 20,000-seat tier then costs no query on the object that decides sales); `addSeats` drops it.
   */
  private seatCopy: { states: SeatState[]; byLabel: Map<string, SeatState> } | null = null;

  /** Drops what is kept of the tier: the next read takes it from storage. */
  forget(): void {
    this.tierRow = null;
    this.seatCopy = null;
  }

  private storedTier(): TierColumns | null {
    this.tierRow ??= this.sql.exec<TierColumns>("SELECT * FROM tier LIMIT 1").toArray()[0] ?? null;
    return this.tierRow;
  }

  // ---- the tier ------------------------------------------------------------------------------

  /** The tier and its counters; the seat list only when asked (the hot path does not need it). */
  tier(withSeats: boolean): TierState | null {
    const r = this.storedTier();
    if (!r) return null;
    return {
      row: {
        id: r.id,
        eventId: r.event_id,
        position: r.position,
        name: r.name,
        price: r.price,
        kind: r.kind as TierRow["kind"],
        capacity: r.capacity,
        seats: r.kind === "seated" && withSeats ? this.seatLabels() : null,
        maxPerOrder: r.max_per_order,
        salesStartAt: r.sales_start_at,
        salesEndAt: r.sales_end_at,
        holdSeconds: r.hold_seconds,
        maxExtensions: r.max_extensions,
        extensionSeconds: r.extension_seconds,
        version: r.version,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      },
      currency: r.currency,
      held: r.held,
      sold: r.sold,
    };
  }

  /** The tier's counters; `refusals`: holds refused for want of capacity or seats (for the stats). */
  counters(): TierCounters {
    const r = this.storedTier();
    if (!r) throw new Error("the tier is not initialised");
    return { capacity: r.capacity, held: r.held, sold: r.sold, refusals: r.refused };
  }

  /** The counters as stored, read past the kept copy (for the inventory checks). */
  storedCounters(): TierCounters {
    const { capacity, held, sold, refusals } = this.sql
      .exec<Record<keyof TierCounters, number>>("SELECT capacity, held, sold, refused AS refusals FROM tier")
      .one();
    return { capacity, held, sold, refusals };
  }

  initTier(row: TierRow, currency: string): void {
    this.sql.exec(
      `INSERT INTO tier (id, event_id, position, name, price, kind, capacity, max_per_order, sales_start_at,
        sales_end_at, hold_seconds, max_extensions, extension_seconds, version, created_at, updated_at,
        currency)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.eventId,
      row.position,
      row.name,
      row.price,
      row.kind,
      row.capacity,
      row.maxPerOrder,
      row.salesStartAt,
      row.salesEndAt,
      row.holdSeconds,
      row.maxExtensions,
      row.extensionSeconds,
      row.version,
      row.createdAt,
      row.updatedAt,
      currency,
    );
    if (row.seats) this.addSeats(row.seats, 0);
    this.tierRow = null;
  }

  updateTier(row: TierRow): void {
    this.tierRow = null;
    this.sql.exec(
      `UPDATE tier SET name = ?, price = ?, capacity = ?, sales_start_at = ?, sales_end_at = ?, hold_seconds = ?,
        version = ?, updated_at = ?`,
      row.name,
      row.price,
      row.capacity,
      row.salesStartAt,
      row.salesEndAt,
      row.holdSeconds,
      row.version,
      row.updatedAt,
    );
  }

  adjustHeld(delta: number): void {
    this.sql.exec("UPDATE tier SET held = held + ?", delta);
    if (this.tierRow) this.tierRow.held += delta;
  }

  adjustSold(delta: number): void {
    this.sql.exec("UPDATE tier SET sold = sold + ?", delta);
    if (this.tierRow) this.tierRow.sold += delta;
  }

  /** Counts a hold refused for want of capacity (sold out, or the seats taken). */
  countRefusal(): void {
    this.sql.exec("UPDATE tier SET refused = refused + 1");
    if (this.tierRow) this.tierRow.refused += 1;
  }

  // ---- seats ---------------------------------------------------------------------------------

  seatLabels(): string[] {
    return this.sql
      .exec<{ label: string }>("SELECT label FROM seats ORDER BY position")
      .toArray()
      .map((s) => s.label);
  }

  seatStates(): SeatState[] {
    if (!this.seatCopy) {
      const states = this.sql
        .exec<{ label: string; status: string }>("SELECT label, status FROM seats ORDER BY position")
        .toArray()
        .map((s) => ({ label: s.label, status: s.status as SeatState["status"] }));
      this.seatCopy = { states, byLabel: new Map(states.map((s) => [s.label, s])) };
    }
    // Copies: what is returned leaves the object (RPC), the kept states change with the next sale.
    return this.seatCopy.states.map((s) => ({ label: s.label, status: s.status }));
  }

  addSeats(labels: string[], fromPosition: number): void {
    this.seatCopy = null;
    labels.forEach((label, i) => {
      this.sql.exec("INSERT INTO seats (label, position) VALUES (?, ?)", label, fromPosition + i);
    });
  }

  seatCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM seats").one().n;
  }

  /** The labels among `labels` that are not seats of this tier. */
  unknownSeats(labels: string[]): string[] {
    return labels.filter((l) => this.sql.exec("SELECT 1 FROM seats WHERE label = ?", l).toArray().length === 0);
  }

  /** The labels among `labels` that are not available. */
  takenSeats(labels: string[]): string[] {
    return labels.filter(
      (l) => this.sql.exec("SELECT 1 FROM seats WHERE label = ? AND status = 'available'", l).toArray().length === 0,
    );
  }

  /** The first `n` available seats in seat order ("best available"). */
  firstAvailableSeats(n: number): string[] {
    return this.sql
      .exec<{ label: string }>("SELECT label FROM seats WHERE status = 'available' ORDER BY position LIMIT ?", n)
      .toArray()
      .map((s) => s.label);
  }

  setSeats(labels: string[], status: SeatState["status"], reservationId: string | null): void {
    for (const label of labels) {
      this.sql.exec("UPDATE seats SET status = ?, reservation_id = ? WHERE label = ?", status, reservationId, label);
      const kept = this.seatCopy?.byLabel.get(label);
      if (kept) kept.status = status;
    }
  }

  // ---- holds ---------------------------------------------------------------------------------

  hold(reservationId: string): Hold | null {
    const r = this.sql
      .exec<HoldColumns>(
        "SELECT reservation_id, lead_tier_id, quantity, seats, status, expires_at FROM holds WHERE reservation_id = ?",
        reservationId,
      )
      .toArray()[0];
    return r ? toHold(r) : null;
  }

  insertHold(hold: Hold, now: number): void {
    this.sql.exec(
      `INSERT INTO holds (reservation_id, lead_tier_id, quantity, seats, status, expires_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      hold.reservationId,
      hold.leadTierId,
      hold.quantity,
      hold.seats === null ? null : JSON.stringify(hold.seats),
      hold.status,
      hold.expiresAt,
      now,
      now,
    );
  }

  setHold(reservationId: string, status: HoldStatus, expiresAt: number, now: number): void {
    this.sql.exec(
      "UPDATE holds SET status = ?, expires_at = ?, updated_at = ? WHERE reservation_id = ?",
      status,
      expiresAt,
      now,
      reservationId,
    );
  }

  /** Holds still taking capacity whose time has come. */
  dueHolds(now: number, limit: number): Hold[] {
    return this.sql
      .exec<HoldColumns>(
        `SELECT reservation_id, lead_tier_id, quantity, seats, status, expires_at FROM holds
         WHERE status IN ('pending', 'active') AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map(toHold);
  }

  nextExpiry(): number | null {
    return this.sql
      .exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM holds WHERE status IN ('pending', 'active')")
      .one().at;
  }

  /** Sum of quantities of holds taking capacity: must always equal the `held` counter. */
  heldByHolds(): number {
    return (
      this.sql
        .exec<{ n: number | null }>("SELECT SUM(quantity) AS n FROM holds WHERE status IN ('pending', 'active')")
        .one().n ?? 0
    );
  }

  // ---- reservation headers this tier leads -----------------------------------------------------

  header(reservationId: string): ReservationRow | null {
    const r = this.sql.exec<{ row: string }>("SELECT row FROM reservations WHERE id = ?", reservationId).toArray()[0];
    return r ? (JSON.parse(r.row) as ReservationRow) : null;
  }

  putHeader(row: ReservationRow): void {
    this.sql.exec(
      "INSERT INTO reservations (id, row) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET row = excluded.row",
      row.id,
      JSON.stringify(row),
    );
  }

  // ---- orders this tier leads ------------------------------------------------------------------

  order(orderId: string): OrderRow | null {
    const r = this.sql.exec<{ row: string }>("SELECT row FROM orders WHERE id = ?", orderId).toArray()[0];
    return r ? toOrder(r.row) : null;
  }

  orderOfReservation(reservationId: string): OrderRow | null {
    const r = this.sql
      .exec<{ row: string }>("SELECT row FROM orders WHERE reservation_id = ?", reservationId)
      .toArray()[0];
    return r ? toOrder(r.row) : null;
  }

  putOrder(row: OrderRow): void {
    this.sql.exec(
      "INSERT INTO orders (id, reservation_id, row) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET row = excluded.row",
      row.id,
      row.reservationId,
      JSON.stringify(row),
    );
  }

  // ---- refunds -------------------------------------------------------------------------------

  /** The tickets among `ticketIds` not refunded yet. */
  unrefunded(ticketIds: string[]): string[] {
    return ticketIds.filter(
      (id) => this.sql.exec("SELECT 1 FROM refunded_tickets WHERE ticket_id = ?", id).toArray().length === 0,
    );
  }

  markRefunded(ticketId: string, refundId: string, reservationId: string): void {
    this.sql.exec(
      "INSERT INTO refunded_tickets (ticket_id, refund_id, reservation_id) VALUES (?, ?, ?)",
      ticketId,
      refundId,
      reservationId,
    );
  }

  hasOrderRefund(refundId: string): boolean {
    return this.sql.exec("SELECT 1 FROM order_refunds WHERE refund_id = ?", refundId).toArray().length > 0;
  }

  addOrderRefund(refundId: string, orderId: string, amount: number, tickets: number): void {
    this.sql.exec(
      "INSERT INTO order_refunds (refund_id, order_id, amount, tickets) VALUES (?, ?, ?, ?)",
      refundId,
      orderId,
      amount,
      tickets,
    );
  }

  /** How many of an order's tickets its recorded refunds cover. */
  refundedTicketCount(orderId: string): number {
    return (
      this.sql
        .exec<{ n: number | null }>("SELECT SUM(tickets) AS n FROM order_refunds WHERE order_id = ?", orderId)
        .one().n ?? 0
    );
  }

  fulfilmentLease(orderId: string): number | null {
    const r = this.sql
      .exec<{ lease_until: number }>("SELECT lease_until FROM fulfilments WHERE order_id = ?", orderId)
      .toArray()[0];
    return r ? r.lease_until : null;
  }

  setFulfilmentLease(orderId: string, until: number): void {
    this.sql.exec(
      "INSERT INTO fulfilments (order_id, lease_until) VALUES (?, ?) ON CONFLICT (order_id) DO UPDATE SET lease_until = excluded.lease_until",
      orderId,
      until,
    );
  }
}
