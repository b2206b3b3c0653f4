/**
 * Calls to Stripe that a tier object's decision requires: refunding a payment that cannot get its
 * tickets (it arrived after its hold lapsed with no capacity left, or it does not match the order),
 * expiring the Checkout Session of a hold that lapsed. A task is
 * queued in the same transaction as the decision, under a deterministic id (so a decision taken
 * twice queues it once), and run single-flight until Stripe answers: one request per attempt, each
 * with an idempotency key derived from the task, so a retry can never refund twice.
 */
import { refusedPaymentRefundId } from "../lib/secret-box";
import { isPermanentStripeError, type Stripe, stripeClient } from "../stripe/client";

/** Why a payment is refused: it came after its hold lapsed with no capacity left, or it does not match the order. */
export type RefusalReason = "late_payment" | "payment_mismatch";

export type StripeTask =
  | {
      kind: "refund";
      orderId: string;
      paymentIntentId: string;
      /** What was paid, in the payment's own currency (a mismatched payment's may not be the order's). */
      amount: number;
      currency: string;
      reason: RefusalReason;
    }
  | { kind: "expireSession"; orderId: string; sessionId: string };

export type TaskOutcome =
  | { kind: "refund"; orderId: string; refundId: string; amount: number; currency: string; reason: RefusalReason }
  | {
      kind: "refundFailed";
      orderId: string;
      /** Our id of the refund that was refused, and what it was for (in the payment's currency). */
      refundId: string;
      amount: number;
      currency: string;
      reason: string;
    }
  | { kind: "expireSession"; orderId: string };

const BACKOFF_MS = [2_000, 10_000, 60_000, 300_000];

export const taskId = (task: StripeTask) => `${task.kind}:${task.orderId}`;

export class StripeTasks {
  private running: Promise<void> | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
  ) {}

  /** Call inside the decision's transaction. */
  enqueue(task: StripeTask, now: number): void {
    this.sql.exec(
      "INSERT INTO stripe_tasks (id, task, next_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
      taskId(task),
      JSON.stringify(task),
      now,
    );
  }

  has(task: StripeTask): boolean {
    return this.sql.exec("SELECT 1 FROM stripe_tasks WHERE id = ?", taskId(task)).toArray().length > 0;
  }

  nextAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM stripe_tasks").one().at;
  }

  /**
   * Runs the tasks that are due, one run at a time. `done` records each outcome (a decision of its
   * own, in a transaction) and is called before the task is deleted.
   */
  run(now: number, done: (outcome: TaskOutcome) => void): Promise<void> {
    this.running ??= this.runDue(now, done).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runDue(now: number, done: (outcome: TaskOutcome) => void): Promise<void> {
    const due = this.sql
      .exec<{ id: string; task: string; attempts: number }>(
        "SELECT id, task, attempts FROM stripe_tasks WHERE next_at <= ? ORDER BY next_at",
        now,
      )
      .toArray();
    for (const row of due) {
      const task = JSON.parse(row.task) as StripeTask;
      try {
        const outcome = await this.call(task);
        done(outcome);
        this.sql.exec("DELETE FROM stripe_tasks WHERE id = ?", row.id);
      } catch (error) {
        if (task.kind === "refund" && isPermanentStripeError(error)) {
          // Retrying cannot help (already refunded, disputed, invalid): record it for the organiser.
          done({
            kind: "refundFailed",
            orderId: task.orderId,
            refundId: await refusedPaymentRefundId(this.env.APP_SECRET, task.orderId),
            amount: task.amount,
            currency: task.currency,
            reason: String((error as Error).message),
          });
          this.sql.exec("DELETE FROM stripe_tasks WHERE id = ?", row.id);
          continue;
        }
        const delay = BACKOFF_MS[Math.min(row.attempts, BACKOFF_MS.length - 1)] as number;
        this.sql.exec(
          "UPDATE stripe_tasks SET attempts = attempts + 1, next_at = ? WHERE id = ?",
          Date.now() + delay,
          row.id,
        );
        console.error(JSON.stringify({ msg: "Stripe task failed; retrying", task, error: String(error) }));
      }
    }
  }

  private async call(task: StripeTask): Promise<TaskOutcome> {
    const stripe = stripeClient(this.env);
    const idempotencyKey = `boxoffice-${taskId(task).replace(":", "-")}`;
    switch (task.kind) {
      case "refund": {
        // Our refund id rides along, so a later `charge.refunded` recognises this refund as ours.
        const refundId = await refusedPaymentRefundId(this.env.APP_SECRET, task.orderId);
        const refund = await stripe.refunds.create(
          {
            payment_intent: task.paymentIntentId,
            amount: task.amount,
            metadata: { orderId: task.orderId, refundId, reason: task.reason },
          },
          { idempotencyKey },
        );
        return {
          kind: "refund",
          orderId: task.orderId,
          refundId: refund.id,
          amount: refund.amount,
          currency: task.currency,
          reason: task.reason,
        };
      }
      case "expireSession": {
        try {
          await stripe.checkout.sessions.expire(task.sessionId, {}, { idempotencyKey });
        } catch (error) {
          // A session that completed or expired meanwhile cannot be expired: nothing left to do.
          if (!isInvalidRequest(error)) throw error;
        }
        return { kind: "expireSession", orderId: task.orderId };
      }
    }
  }
}

function isInvalidRequest(error: unknown): boolean {
  return (error as Stripe.errors.StripeError | undefined)?.type === "StripeInvalidRequestError";
}
