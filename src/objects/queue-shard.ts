/**
 * QueueShard: one of a queue's shard objects (API.md, "Drops"). It keeps its entries in its SQLite
 * storage, so an eviction or a restart loses neither an entry nor an admission, and answers joins and
 * polls for them. Who is admitted is decided by slot and schedule alone (both from the QueueClock):
 * an entry whose slot the schedule has reached is admitted, at the shard's alarm (set for the next
 * slot's time) or at its next poll, whichever comes first, and its pass is signed here.
 *
 * Joining before `opensAt` draws a uniformly random rank (`crypto.getRandomValues`): at the draw the
 * shard gives its slots to its early entries in rank order, so arrival time and connection count buy
 * nothing. Once the clock has counted the early entries, every joiner is a later one, who waits for
 * the clock to number it in arrival order across all shards.
 */
import { DurableObject } from "cloudflare:workers";
import { signPass } from "../lib/admission";
import {
  admittedAt,
  type EntryState,
  type JoinRequest,
  MAX_ENTRIES_PER_CLIENT,
  type NumberRequest,
  type QueueAddress,
  type QueueTerms,
  type Schedule,
  type ShardStats,
  timeOfSlot,
  type UnnumberedBatch,
} from "./queue-rpc";

/** A shard that has heard nothing from its clock for this long wakes it (on a join, or a waiting poll). */
const CLOCK_QUIET_MS = 5_000;
/** Later joiners numbered per shard and tick, at most. */
const NUMBER_BATCH = 5_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    joined_at INTEGER NOT NULL,
    rank REAL,
    slot INTEGER,
    admitted_at INTEGER,
    pass_expires_at INTEGER,
    pass_reservations INTEGER
  );
  CREATE TABLE IF NOT EXISTS client_entries (client TEXT NOT NULL, entry_id TEXT NOT NULL, PRIMARY KEY (client, entry_id));
  CREATE INDEX IF NOT EXISTS entries_slot ON entries (slot);
  CREATE INDEX IF NOT EXISTS entries_unnumbered ON entries (joined_at, id) WHERE slot IS NULL AND rank IS NULL;
  CREATE INDEX IF NOT EXISTS entries_rank ON entries (rank, id) WHERE rank IS NOT NULL;
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

interface EntryRow extends Record<string, SqlStorageValue> {
  id: string;
  joined_at: number;
  rank: number | null;
  slot: number | null;
  admitted_at: number | null;
  pass_expires_at: number | null;
  pass_reservations: number | null;
}

interface Meta {
  address: QueueAddress;
  terms: QueueTerms;
  schedule: Schedule | null;
  nextSlot: number;
  /** Entries that joined before `opensAt` (they wait for the draw). */
  early: number;
  /** The clock has counted the early entries: from then on every joiner is a later one. */
  earlyClosed: boolean;
  /** When the clock last told this shard anything. */
  heardAt: number;
  /** When this shard last woke the clock. */
  wokeAt: number;
}

/** A uniform random number in [0, 1) from the platform's CSPRNG (53 bits). */
function randomRank(): number {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2)) as unknown as [number, number];
  return ((hi >>> 5) * 67_108_864 + (lo >>> 6)) / 9_007_199_254_740_992;
}

/** Spreads polls: `seconds`, give or take a quarter, at least 1. */
const spread = (seconds: number) => Math.max(1, Math.round(seconds * (0.75 + Math.random() / 2)));

export class QueueShard extends DurableObject<Env> {
  private meta: Meta | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(SCHEMA);
      const row = ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'meta'").toArray()[0];
      this.meta = row ? (JSON.parse(row.value) as Meta) : null;
    });
  }

  /**
   * Adds the entry (or answers it, if it is there already). `client` given: this is the client's shard
   * too, and the entry counts against the client's cap here, in the same transaction.
   */
  async join(
    req: JoinRequest,
  ): Promise<{ ok: true; created: boolean; entry: EntryState } | { ok: false; entries: number }> {
    const now = Date.now();
    const known = this.known(req.address, req.terms);
    // Until the draw, the Worker's copy of the settings is the newest this shard hears of.
    const meta = known.earlyClosed ? known : { ...known, terms: req.terms };
    const sql = this.ctx.storage.sql;
    const outcome = this.ctx.storage.transactionSync(() => {
      const existing = sql.exec("SELECT 1 FROM entries WHERE id = ?", req.entryId).toArray();
      if (existing.length > 0) return { created: false };
      if (req.client !== null) {
        const counted = this.countEntry(req.client, req.entryId);
        if (counted !== null) return { capped: counted };
      }
      const early = !meta.earlyClosed && now < meta.terms.opensAt;
      sql.exec(
        "INSERT INTO entries (id, joined_at, rank) VALUES (?, ?, ?)",
        req.entryId,
        now,
        early ? randomRank() : null,
      );
      this.saveMeta({ ...meta, early: meta.early + (early ? 1 : 0) });
      return { created: true };
    });
    if ("capped" in outcome) return { ok: false, entries: outcome.capped as number };
    this.wakeClockIfQuiet(now);
    return { ok: true, created: outcome.created, entry: (await this.state(req.entryId, now)) as EntryState };
  }

  /** Counts `entryId` as one of `client`'s entries (this being the client's shard); false past the cap. */
  claimEntry(client: string, entryId: string): boolean {
    return this.ctx.storage.transactionSync(() => this.countEntry(client, entryId) === null);
  }

  /** Null once the entry is counted (again: idempotent), or the client's count when it is at the cap. */
  private countEntry(client: string, entryId: string): number | null {
    const sql = this.ctx.storage.sql;
    const mine = sql.exec("SELECT 1 FROM client_entries WHERE client = ? AND entry_id = ?", client, entryId).toArray();
    if (mine.length > 0) return null;
    const n = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM client_entries WHERE client = ?", client).one().n;
    if (n >= MAX_ENTRIES_PER_CLIENT) return n;
    sql.exec("INSERT INTO client_entries (client, entry_id) VALUES (?, ?)", client, entryId);
    return null;
  }

  /** Whether the entry is here (a join elsewhere asks before counting it against its client). */
  has(entryId: string): boolean {
    return this.ctx.storage.sql.exec("SELECT 1 FROM entries WHERE id = ?", entryId).toArray().length > 0;
  }

  async poll(entryId: string): Promise<EntryState | null> {
    const now = Date.now();
    const entry = await this.state(entryId, now);
    if (entry?.status === "waiting") this.wakeClockIfQuiet(now);
    return entry;
  }

  // ---- what the clock asks ------------------------------------------------------------------

  /**
   * How many entries joined before `opensAt`; from this answer on, every joiner is a later one. Null
   * while this shard's own clock is before `opensAt`.
   */
  earlyCount(address: QueueAddress, terms: QueueTerms): number | null {
    if (Date.now() < terms.opensAt) return null;
    const meta = this.known(address, terms);
    this.ctx.storage.transactionSync(() => this.saveMeta({ ...meta, earlyClosed: true, heardAt: Date.now() }));
    return meta.early;
  }

  /**
   * Gives the drawn slots (ascending) to the early entries in rank order, once. (The early entries are
   * exactly those counted: none can join after the count.)
   */
  draw(address: QueueAddress, terms: QueueTerms, slots: number[], schedule: Schedule): void {
    const meta = this.known(address, terms);
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      const numbered = sql.exec("SELECT 1 FROM entries WHERE rank IS NOT NULL AND slot IS NOT NULL LIMIT 1").toArray();
      if (numbered.length === 0) {
        const ids = sql
          .exec<{ id: string }>("SELECT id FROM entries WHERE rank IS NOT NULL ORDER BY rank, id")
          .toArray();
        ids.forEach((row, i) => {
          const slot = slots[i];
          // One the count missed (it cannot happen: none joins early after it) queues as a later joiner.
          if (slot === undefined) sql.exec("UPDATE entries SET rank = NULL WHERE id = ?", row.id);
          else sql.exec("UPDATE entries SET slot = ? WHERE id = ?", slot, row.id);
        });
      }
      this.saveMeta({ ...meta, earlyClosed: true, schedule, heardAt: Date.now() });
    });
    this.admitDue();
  }

  /** Later joiners without a slot who joined before `cutoff`, in arrival order, a batch at most. */
  unnumbered(address: QueueAddress, terms: QueueTerms, cutoff: number): UnnumberedBatch {
    const meta = this.known(address, terms);
    const sql = this.ctx.storage.sql;
    const rows = sql
      .exec<{ id: string; joined_at: number }>(
        "SELECT id, joined_at FROM entries WHERE slot IS NULL AND rank IS NULL AND joined_at < ? ORDER BY joined_at, id LIMIT ?",
        cutoff,
        NUMBER_BATCH + 1,
      )
      .toArray();
    const waiting = sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM entries WHERE slot IS NULL AND rank IS NULL")
      .one().n;
    this.ctx.storage.transactionSync(() => this.saveMeta({ ...meta, heardAt: Date.now() }));
    return {
      ready: rows.slice(0, NUMBER_BATCH).map((r) => ({ id: r.id, joinedAt: r.joined_at })),
      truncated: rows.length > NUMBER_BATCH,
      waiting,
    };
  }

  number(req: NumberRequest): void {
    const meta = this.known(req.address, req.terms);
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const [id, slot] of req.slots)
        sql.exec("UPDATE entries SET slot = ? WHERE id = ? AND slot IS NULL", slot, id);
      this.saveMeta({ ...meta, schedule: req.schedule, nextSlot: req.nextSlot, terms: req.terms, heardAt: Date.now() });
    });
    this.admitDue();
  }

  /** The organiser's figures (a read over the shard's entries; not on a buyer's path). */
  stats(): ShardStats {
    const due = this.dueSlot(Date.now());
    const r = this.ctx.storage.sql
      .exec<{ admitted: number; waiting: number; oldest: number | null }>(
        `SELECT
           COUNT(CASE WHEN admitted_at IS NOT NULL OR slot <= ?1 THEN 1 END) AS admitted,
           COUNT(CASE WHEN admitted_at IS NULL AND (slot IS NULL OR slot > ?1) THEN 1 END) AS waiting,
           MIN(CASE WHEN admitted_at IS NULL AND (slot IS NULL OR slot > ?1) THEN joined_at END) AS oldest
         FROM entries`,
        due,
      )
      .one();
    return { waiting: r.waiting, admitted: r.admitted, oldestWaitingSince: r.oldest };
  }

  override async alarm(): Promise<void> {
    this.admitDue();
  }

  // ---- inside ---------------------------------------------------------------------------------

  /** What this shard knows of its queue: its stored meta, or a first one from the caller's. */
  private known(address: QueueAddress, terms: QueueTerms): Meta {
    return (
      this.meta ?? {
        address,
        terms,
        schedule: null,
        nextSlot: 1,
        early: 0,
        earlyClosed: false,
        heardAt: 0,
        wokeAt: 0,
      }
    );
  }

  /** The highest slot admitted at `now` (0 before the draw). */
  private dueSlot(now: number): number {
    return this.meta?.schedule ? admittedAt(this.meta.schedule, now) : 0;
  }

  /** Admits every entry whose slot is due (its pass on today's terms), and sets the alarm for the next. */
  private admitDue(): void {
    const meta = this.meta;
    if (!meta?.schedule) return;
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      sql.exec(
        "UPDATE entries SET admitted_at = ?, pass_expires_at = ?, pass_reservations = ? WHERE admitted_at IS NULL AND slot <= ?",
        now,
        now + meta.terms.passSeconds * 1000,
        meta.terms.passReservations,
        this.dueSlot(now),
      );
    });
    const next = sql
      .exec<{ slot: number | null }>(
        "SELECT MIN(slot) AS slot FROM entries WHERE admitted_at IS NULL AND slot IS NOT NULL",
      )
      .one().slot;
    if (next !== null) void this.ctx.storage.setAlarm(timeOfSlot(meta.schedule, next));
  }

  private async state(entryId: string, now: number): Promise<EntryState | null> {
    const meta = this.meta;
    if (!meta) return null;
    const read = () => this.ctx.storage.sql.exec<EntryRow>("SELECT * FROM entries WHERE id = ?", entryId).toArray()[0];
    let row = read();
    if (!row) return null;
    if (row.admitted_at === null && row.slot !== null && row.slot <= this.dueSlot(now)) {
      this.admitDue(); // its slot came before the alarm did
      row = read() as EntryRow;
    }
    const { address, terms } = meta;
    const base = { id: row.id, eventId: address.eventId };
    if (row.admitted_at !== null && row.pass_expires_at !== null) {
      if (row.pass_expires_at <= now) {
        return { ...base, status: "expired", position: 0, estimatedWaitSeconds: 0, pollAfterSeconds: 60 };
      }
      const pass = await signPass(this.env.APP_SECRET, {
        eventId: address.eventId,
        generation: address.generation,
        entryId: row.id,
        expiresAt: row.pass_expires_at,
        reservations: row.pass_reservations ?? terms.passReservations,
      });
      const left = Math.ceil((row.pass_expires_at - now) / 1000);
      return {
        ...base,
        status: "admitted",
        position: 0,
        estimatedWaitSeconds: 0,
        pollAfterSeconds: Math.max(1, Math.min(60, left)),
        pass,
        passExpiresAt: row.pass_expires_at,
      };
    }
    const position = this.position(row, now);
    const untilOpen = Math.max(0, Math.ceil((terms.opensAt - now) / 1000));
    const wait = untilOpen + Math.ceil((position * 60) / terms.admitPerMinute);
    // Poll about four times before the expected admission, never more often than each second.
    return {
      ...base,
      status: "waiting",
      position,
      estimatedWaitSeconds: wait,
      pollAfterSeconds: spread(Math.min(30, wait / 4)),
    };
  }

  /**
   * Entries ahead, plus one. Exact once the entry has its slot; before that an estimate: an early entry
   * before the draw stands at its rank's share of the early entries (this shard's times the shard
   * count), a later one behind the slots already given plus this shard's unnumbered entries ahead of
   * it, scaled the same way.
   */
  private position(row: EntryRow, now: number): number {
    const meta = this.meta as Meta;
    if (row.slot !== null) return Math.max(1, row.slot - this.dueSlot(now));
    const shards = meta.address.shards;
    if (row.rank !== null) return Math.max(1, Math.ceil(row.rank * meta.early * shards));
    const ahead = this.ctx.storage.sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM entries WHERE slot IS NULL AND rank IS NULL AND (joined_at < ? OR (joined_at = ? AND id < ?))",
        row.joined_at,
        row.joined_at,
        row.id,
      )
      .one().n;
    const given = Math.max(0, meta.nextSlot - 1 - this.dueSlot(now));
    return given + ahead * shards + 1;
  }

  private saveMeta(meta: Meta): void {
    this.meta = meta;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('meta', ?)", JSON.stringify(meta));
  }

  /**
   * Makes sure the clock is ticking (it sleeps when its queue is quiet), after the answer: a failure
   * is logged and the next join or waiting poll tries again.
   */
  private wakeClockIfQuiet(now: number): void {
    const meta = this.meta;
    if (!meta || now - Math.max(meta.heardAt, meta.wokeAt) <= CLOCK_QUIET_MS) return;
    this.ctx.storage.transactionSync(() => this.saveMeta({ ...meta, wokeAt: now }));
    const { eventId, generation, shards } = meta.address;
    this.ctx.waitUntil(
      this.env.QUEUE_CLOCK.getByName(`${eventId}:${generation}`)
        .wake({ eventId, generation, shards })
        .catch((error: unknown) => {
          console.error(JSON.stringify({ msg: "queue clock not woken", address: meta.address, error: String(error) }));
        }),
    );
  }
}
