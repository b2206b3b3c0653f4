/**
 * A Durable Object's outbox: what the object decides is written here in the same SQLite
 * transaction as the decision, then sent to D1. Sending is single-flight with group commit: while
 * one batch is in flight, new messages queue, and the next batch takes all of them, so a burst of
 * requests costs a handful of D1 round trips. A failed send leaves the messages in place; the
 * object's alarm retries them until they land (every message is idempotent, see projections.ts).
 * The webhook messages that land are remembered (`takeLanded`) for the object to put on the queue.
 */
import { type OutboxMessage, projectionStatements } from "../db/projections";

/** Messages per D1 batch: large enough to amortise a round trip, small enough to stay quick. */
const BATCH_SIZE = 200;
export const RETRY_DELAY_MS = 2_000;
/** Attempts mark of a message D1 refused on its own while it took others. */
const POISONED = 100;

export class Outbox {
  private inFlight: Promise<boolean> | null = null;
  /**
   * Every message up to this seq has reached D1 or been set aside (kept in memory: 0 after the
   * object restarts, when the first flush finds out again). Lets a request waiting for its own
   * messages skip a look at the table after each batch.
   */
  private sentThrough = 0;
  /** Ids of the webhook messages that reached D1 and are not yet handed to `takeLanded`'s caller. */
  private landed: string[] = [];

  constructor(
    private readonly sql: SqlStorage,
    private readonly d1: D1Database,
  ) {}

  /** Call inside the decision's transaction. */
  enqueue(messages: OutboxMessage[]): void {
    // One statement per up to 100 messages (SQLite's bound-parameter limit in a Durable Object), in order.
    for (let i = 0; i < messages.length; i += 100) {
      const chunk = messages.slice(i, i + 100);
      this.sql.exec(
        `INSERT INTO outbox (message) VALUES ${chunk.map(() => "(?)").join(", ")}`,
        ...chunk.map((m) => JSON.stringify(m)),
      );
    }
  }

  /**
   * Resolves once every message enqueued before the call is in D1; rejects if a send fails or one
   * of those messages was set aside as poisoned (see `sendBatch`).
   */
  async flush(): Promise<void> {
    const span = this.sql
      .exec<{ first: number | null; last: number | null }>(
        "SELECT MIN(seq) AS first, MAX(seq) AS last FROM outbox WHERE attempts < ?",
        POISONED,
      )
      .one();
    if (span.first === null || span.last === null) return;
    while (this.sentThrough < span.last) {
      if (this.inFlight) {
        // Someone else's batch may already carry our messages; look again when it is done.
        await this.inFlight.catch(() => undefined);
        continue;
      }
      this.inFlight = this.sendBatch();
      let sent: boolean;
      try {
        sent = await this.inFlight;
      } finally {
        this.inFlight = null;
      }
      // Nothing was left to send (ours went in someone else's batch, or are set aside): done.
      if (!sent) break;
    }
    const refused = this.sql
      .exec("SELECT 1 FROM outbox WHERE attempts >= ? AND seq BETWEEN ? AND ? LIMIT 1", POISONED, span.first, span.last)
      .toArray();
    if (refused.length > 0) throw new Error("D1 refused an outbox message; it is set aside and retried by the alarm");
  }

  /**
   * Sends the oldest messages in one D1 batch (atomic). If the batch fails, they are sent one by
   * one: when D1 takes some and refuses others, the refused ones are poisoned — set aside for
   * `retryPoisoned`, never dropped (every message is idempotent and order-independent) — so that
   * one bad message cannot hold up the rest. When D1 takes none, it is down: all stay queued.
   */
  /** Whether there was anything to send. */
  private async sendBatch(): Promise<boolean> {
    const rows = this.sql
      .exec<{ seq: number; message: string }>(
        "SELECT seq, message FROM outbox WHERE attempts < ? ORDER BY seq LIMIT ?",
        POISONED,
        BATCH_SIZE,
      )
      .toArray();
    const last = rows.at(-1)?.seq;
    // Nothing left but what is set aside (the caller's `refused` check tells which).
    if (last === undefined) return false;
    try {
      await this.send(rows);
      this.deleteRows(rows);
      this.sentThrough = Math.max(this.sentThrough, last);
      return true;
    } catch (error) {
      if (rows.length === 1) {
        this.bump(rows);
        throw error;
      }
    }
    const refused: typeof rows = [];
    let taken = 0;
    for (const row of rows) {
      try {
        await this.send([row]);
        this.deleteRows([row]);
        taken++;
      } catch (error) {
        refused.push(row);
        if (taken === 0 && refused.length >= 2) break; // nothing gets through: D1 is down
        if (taken > 0)
          console.error(JSON.stringify({ msg: "D1 refuses an outbox message; set aside", row, error: String(error) }));
      }
    }
    if (taken === 0) {
      this.bump(rows);
      throw new Error("D1 takes no outbox message");
    }
    for (const row of refused) this.sql.exec("UPDATE outbox SET attempts = ? WHERE seq = ?", POISONED, row.seq);
    this.sentThrough = Math.max(this.sentThrough, last);
    return true;
  }

  private async send(rows: { message: string }[]): Promise<void> {
    const messages = rows.map((r) => JSON.parse(r.message) as OutboxMessage);
    await this.d1.batch(projectionStatements(this.d1, messages));
    for (const m of messages) if (m.kind === "webhook") this.landed.push(m.row.id);
  }

  /**
   * The webhook messages that landed since the last call (kept in memory only: after a restart, the
   * Worker's sweep finds the ones never put on the queue).
   */
  takeLanded(): string[] {
    const ids = this.landed;
    this.landed = [];
    return ids;
  }

  private bump(rows: { seq: number }[]): void {
    for (const row of rows) this.sql.exec("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", row.seq);
  }

  private deleteRows(rows: { seq: number }[]): void {
    this.sql.exec(
      "DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))",
      JSON.stringify(rows.map((r) => r.seq)),
    );
  }

  /** Retries the set-aside messages one by one; returns how many D1 still refuses. */
  async retryPoisoned(): Promise<number> {
    const rows = this.sql
      .exec<{ seq: number; message: string }>("SELECT seq, message FROM outbox WHERE attempts >= ?", POISONED)
      .toArray();
    let refused = 0;
    for (const row of rows) {
      try {
        await this.send([row]);
        this.deleteRows([row]);
      } catch {
        this.bump([row]);
        refused++;
      }
    }
    return refused;
  }

  /** Messages not yet in D1: while any are, D1 may lag the object's counters. */
  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
  }

  /** Messages D1 has refused even on their own (for the inventory checks). */
  poisoned(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE attempts >= ?", POISONED).one().n;
  }
}
