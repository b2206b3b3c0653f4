/**
 * A Durable Object's outbox: what the object decides is written here in the same SQLite
 * transaction as the decision, then sent to D1. Sending is single-flight with group commit: while
 * one batch is in flight, new messages queue, and the next batch takes all of them, so a burst of
 * requests costs a handful of D1 round trips. A failed send leaves the messages in place; the
 * object's alarm retries them until they land (every message is idempotent, see projections.ts).
 */
import { type OutboxMessage, projectionStatements } from "../db/projections";

/** Messages per D1 batch: large enough to amortise a round trip, small enough to stay quick. */
const BATCH_SIZE = 200;
export const RETRY_DELAY_MS = 2_000;

export class Outbox {
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly d1: D1Database,
  ) {}

  /** Call inside the decision's transaction. */
  enqueue(messages: OutboxMessage[]): void {
    for (const message of messages) {
      this.sql.exec("INSERT INTO outbox (message) VALUES (?)", JSON.stringify(message));
    }
  }

  /** Resolves once every message enqueued before the call is in D1; rejects if a send fails. */
  async flush(): Promise<void> {
    const target = this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM outbox").one().seq;
    if (target === null) return;
    while (this.pendingUpTo(target)) {
      if (this.inFlight) {
        // Someone else's batch may already carry our messages; look again when it is done.
        await this.inFlight.catch(() => undefined);
        continue;
      }
      this.inFlight = this.sendBatch();
      try {
        await this.inFlight;
      } finally {
        this.inFlight = null;
      }
    }
  }

  private pendingUpTo(seq: number): boolean {
    return this.sql.exec("SELECT 1 FROM outbox WHERE seq <= ? LIMIT 1", seq).toArray().length > 0;
  }

  private async sendBatch(): Promise<void> {
    const rows = this.sql
      .exec<{ seq: number; message: string }>("SELECT seq, message FROM outbox ORDER BY seq LIMIT ?", BATCH_SIZE)
      .toArray();
    const first = rows[0];
    const last = rows.at(-1);
    if (!first || !last) return;
    const messages = rows.map((r) => JSON.parse(r.message) as OutboxMessage);
    try {
      await this.d1.batch(projectionStatements(this.d1, messages));
    } catch (error) {
      this.sql.exec("UPDATE outbox SET attempts = attempts + 1 WHERE seq BETWEEN ? AND ?", first.seq, last.seq);
      throw error;
    }
    this.sql.exec("DELETE FROM outbox WHERE seq BETWEEN ? AND ?", first.seq, last.seq);
  }
}
