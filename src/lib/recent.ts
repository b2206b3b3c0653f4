import { waitUntil } from "cloudflare:workers";

/**
 * A value many clients ask for at once, made once and shared for a short while: the first asker makes
 * it, everyone asking while it is being made or within `maxAgeMs` after gets the same one. A failure is
 * not kept (the next asker tries again). Per isolate; bounded to `maxKeys` (the oldest goes first).
 *
 * The making runs in the first asker's request, and the others wait on it: it is kept alive past that
 * request (`waitUntil`), so a first client that goes away does not take the others' answer with it.
 */
export class Recent<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(private readonly maxKeys = 1_000) {}

  get(key: string, maxAgeMs: number, now: number, make: () => Promise<T>): Promise<T> {
    if (maxAgeMs <= 0) return make();
    const entry = this.entries.get(key);
    if (entry && now - entry.at < maxAgeMs) return entry.value;
    const value = make();
    keepAlive(value);
    this.entries.delete(key);
    this.entries.set(key, { at: now, value });
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  /** Drops the kept value (after a change this isolate made, so it sees it at once). */
  forget(key: string): void {
    this.entries.delete(key);
  }
}

/** Outside a request (a test calling in directly) there is nothing to keep alive. */
function keepAlive(value: Promise<unknown>): void {
  try {
    waitUntil(value.catch(() => undefined));
  } catch {
    // no request context
  }
}
