/**
 * A receiver of the organiser's webhooks, in the test: requests the service makes to
 * https://receiver.example are recorded (headers and exact body) and answered as the test says (200
 * unless told otherwise), through the same fetch the service calls. It sits in front of whatever
 * fetch mock is there already (the fake Stripe), so install it after `useFakeStripe()`.
 */
import { afterEach, beforeEach, vi } from "vitest";

export const RECEIVER_HOST = "receiver.example";
export const RECEIVER_URL = `https://${RECEIVER_HOST}/hook`;

export interface ReceivedWebhook {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The (fake) clock when it arrived. */
  at: number;
}

/** An answer: a status (its body empty), or a network fault. */
export type ReceiverAnswer = number | "network error";

const realFetch = globalThis.fetch;

export function useReceiver() {
  const received: ReceivedWebhook[] = [];
  let answers: ReceiverAnswer[] = [];
  const answersAt = new Map<string, ReceiverAnswer[]>();
  let always: ReceiverAnswer | null = null;
  let restore: (() => void) | null = null;

  beforeEach(() => {
    received.length = 0;
    answers = [];
    answersAt.clear();
    always = null;
    const current = globalThis.fetch;
    const spy = vi.isMockFunction(current) ? current : vi.spyOn(globalThis, "fetch");
    const before = spy.getMockImplementation() ?? realFetch;
    restore = vi.isMockFunction(current) ? () => spy.mockImplementation(before) : () => spy.mockRestore();
    spy.mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).host !== RECEIVER_HOST) return before(input, init);
      received.push({
        url: request.url,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
        at: Date.now(),
      });
      const answer = answersAt.get(request.url)?.shift() ?? answers.shift() ?? always ?? 200;
      if (answer === "network error") throw new TypeError("connection refused");
      return new Response(answer === 200 ? "ok" : `status ${answer}`, { status: answer });
    });
  });

  afterEach(() => {
    restore?.();
    restore = null;
  });

  return {
    received,
    /** The next answers, in order; after them, `always` (200 unless set). */
    answer(...next: ReceiverAnswer[]) {
      answers.push(...next);
    },
    /** The next answers to requests to `url` only (before the general ones). */
    answerAt(url: string, ...next: ReceiverAnswer[]) {
      answersAt.set(url, [...(answersAt.get(url) ?? []), ...next]);
    },
    alwaysAnswer(answer: ReceiverAnswer | null) {
      always = answer;
    },
  };
}
