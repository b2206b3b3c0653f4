/**
 * The door scanner page (`GET /scan`) in a real headless Chromium against the Worker served locally:
 * what a door person sees after each scan, typed or from the camera.
 */
import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { onPhoneIn } from "./phone.ts";
import { withWorkerAndBrowser } from "./suite.ts";
import { type LocalWorker, seedDoor, type Ticket } from "./worker.ts";

const SCANNER_GATE = "North";
const SCREENSHOT = "/tmp/scan-page.png";

const GREEN = "rgb(10, 122, 51)";
const RED = "rgb(193, 18, 31)";
const AMBER = "rgb(242, 169, 0)";

let worker: LocalWorker | undefined;
let browser: Browser | undefined;
let door: Awaited<ReturnType<typeof seedDoor>>;

withWorkerAndBrowser(async (w, b) => {
  worker = w;
  browser = b;
  door = await seedDoor(w, 8, SCANNER_GATE);
});

const url = () => `${worker?.url}/scan`;
const ticket = (i: number) => door.tickets[i] as Ticket;

const onPhone = (steps: (page: Page) => Promise<void>, initScript?: string) => onPhoneIn(browser, steps, initScript);

async function signIn(page: Page, token: string) {
  await page.goto(url());
  await page.fill("#token", token);
  await page.click("#setup-form button");
  await page.waitForSelector("#scanner:not([hidden])");
}

interface Verdict {
  result: string;
  code: string | null;
  word: string;
  reason: string;
  ticket: string;
  background: string;
}

const readVerdict = (page: Page) =>
  page.evaluate(`(() => {
    const v = document.getElementById("verdict");
    const text = (id) => document.getElementById(id).textContent;
    return { result: v.dataset.result, code: v.dataset.code ?? null, word: text("verdict-word"),
      reason: text("verdict-reason"), ticket: text("verdict-ticket"), background: getComputedStyle(v).backgroundColor };
  })()`) as Promise<Verdict>;

/** Waits out the "CHECKING…" state of the scan just made, then reads the verdict. */
async function settled(page: Page): Promise<Verdict> {
  await page.waitForSelector('#verdict:not([data-result="pending"])');
  return readVerdict(page);
}

/** Types a code and presses Enter, as a door person (or a USB reader) does. */
async function typeCode(page: Page, code: string): Promise<Verdict> {
  await page.fill("#code", code);
  await page.press("#code", "Enter");
  return settled(page);
}

/** The same code with one signature character changed: well-formed, not signed by us. */
function forge(code: string): string {
  const at = code.lastIndexOf(".") + 1;
  return code.slice(0, at) + (code[at] === "A" ? "B" : "A") + code.slice(at + 1);
}

/** A camera that always sees the codes in `window.cameraSees`: a stand-in BarcodeDetector, a canvas for the lens. */
const FAKE_CAMERA = `window.cameraSees = [];
  window.BarcodeDetector = class {
    static async getSupportedFormats() { return ["qr_code"]; }
    async detect() { return window.cameraSees.map((rawValue) => ({ rawValue, format: "qr_code" })); }
  };
  navigator.mediaDevices.getUserMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.getContext("2d").fillRect(0, 0, canvas.width, canvas.height);
    return canvas.captureStream(5);
  };`;

const HH_MM_SS = "\\d\\d:\\d\\d:\\d\\d";

describe("the door scanner page", () => {
  it("is one self-contained document under a strict per-response policy", async () => {
    const [a, b] = await Promise.all([fetch(url()), fetch(url())]);
    expect(a.status).toBe(200);
    expect(a.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(a.headers.get("Cache-Control")).toBe("no-store");
    expect(a.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(a.headers.get("Referrer-Policy")).toBe("no-referrer");
    const policy = a.headers.get("Content-Security-Policy") ?? "";
    expect(policy).toMatch(/^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/]{22}=='; /);
    expect(policy).toContain("connect-src 'self'");
    expect(policy).not.toContain("unsafe-inline");
    expect(b.headers.get("Content-Security-Policy")).not.toBe(policy);
    const html = await a.text();
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
  });

  it("asks for the token once, admits a guest, refuses the ticket again, and tells a forged code apart", async () => {
    await onPhone(async (page) => {
      await page.goto(url());
      expect(await page.isVisible("#setup")).toBe(true);
      expect(await page.isVisible("#scanner")).toBe(false);
      await signIn(page, door.scannerToken);
      expect(await readVerdict(page)).toMatchObject({ result: "idle", word: "READY" });
      await page.fill("#gate", "East");
      await page.dispatchEvent("#gate", "change");

      const first = await typeCode(page, ticket(0).code);
      expect(first).toMatchObject({ result: "admitted", code: null, word: "ADMITTED", background: GREEN });
      expect(first.reason).toMatch(new RegExp(`^Checked in at ${HH_MM_SS}$`));
      expect(first.ticket).toBe(`Ticket ${ticket(0).id} · tier ${ticket(0).tierId}`);
      // The field is emptied and keeps the focus, ready for the next guest.
      expect(await page.inputValue("#code")).toBe("");
      expect(await page.evaluate("document.activeElement.id")).toBe("code");

      await page.fill("#code", ticket(0).code);
      await page.click("#check");
      const again = await settled(page);
      expect(again).toMatchObject({
        result: "refused",
        code: "ALREADY_CHECKED_IN",
        word: "ALREADY CHECKED IN",
        ticket: `Ticket ${ticket(0).id}`,
        background: RED,
      });
      expect(again.reason).toMatch(new RegExp(`^Inside since ${HH_MM_SS} at gate East$`));
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      expect(await typeCode(page, forge(ticket(1).code))).toMatchObject({
        result: "refused",
        code: "INVALID_TICKET_CODE",
        word: "INVALID CODE",
        reason: "Not a genuine ticket code",
        background: RED,
      });
      expect(await typeCode(page, "HELLO-123")).toMatchObject({ result: "refused", word: "INVALID CODE" });
    });
  });

  it("keeps the token and gate across a reload, lets a guest out, and refuses an exit for one not inside", async () => {
    await onPhone(async (page) => {
      await signIn(page, door.scannerToken);
      await page.fill("#gate", "West");
      await page.dispatchEvent("#gate", "change");
      await page.reload();
      expect(await page.isVisible("#scanner")).toBe(true);
      expect(await page.isVisible("#setup")).toBe(false);
      expect(await page.inputValue("#gate")).toBe("West");

      expect(await typeCode(page, ticket(2).code)).toMatchObject({ result: "admitted", word: "ADMITTED" });
      await page.check('input[name=direction][value="out"]');
      const out = await typeCode(page, ticket(2).code);
      expect(out).toMatchObject({ result: "exited", code: null, word: "EXITED", background: GREEN });
      expect(out.reason).toMatch(new RegExp(`^Let out at ${HH_MM_SS}: may come back in$`));
      expect(await typeCode(page, ticket(3).code)).toMatchObject({
        result: "refused",
        code: "NOT_CHECKED_IN",
        word: "NOT CHECKED IN",
        background: RED,
      });
      await page.check('input[name=direction][value="in"]');
      expect(await typeCode(page, ticket(2).code)).toMatchObject({ result: "admitted", word: "ADMITTED" });

      await page.click("#forget");
      expect(await page.isVisible("#setup")).toBe(true);
      expect(await page.evaluate('localStorage.getItem("boxoffice.scanner.token")')).toBeNull();
    });
  });

  it("shows a refused token, a lost connection and a server fault as such, never as an admission", async () => {
    await onPhone(async (page) => {
      await signIn(page, "not-a-scanner-token");
      expect(await typeCode(page, ticket(4).code)).toMatchObject({
        result: "refused",
        code: "UNAUTHORIZED",
        word: "TOKEN REFUSED",
        background: RED,
      });
      await page.click("#forget");
      await signIn(page, door.scannerToken);

      await page.route("**/v1/checkins", (route) => route.abort("internetdisconnected"));
      expect(await typeCode(page, ticket(4).code)).toMatchObject({
        result: "offline",
        code: null,
        word: "NO CONNECTION",
        reason: "Try again: this scan was not recorded",
        background: AMBER,
      });
      await page.unroute("**/v1/checkins");
      await page.route("**/v1/checkins", (route) =>
        route.fulfill({ status: 503, contentType: "text/plain", body: "upstream unavailable" }),
      );
      expect(await typeCode(page, ticket(4).code)).toMatchObject({
        result: "error",
        word: "NOT CHECKED",
        reason: "Try again: the server answered 503",
        background: AMBER,
      });
      await page.unroute("**/v1/checkins");
      // The failed scan recorded nothing: the guest is admitted once the network is back.
      expect(await typeCode(page, ticket(4).code)).toMatchObject({ result: "admitted", word: "ADMITTED" });
    });
  });

  it("explains why the camera is off where the browser cannot read QR codes", async () => {
    await onPhone(async (page) => {
      await signIn(page, door.scannerToken);
      if (await page.evaluate('"BarcodeDetector" in window')) return; // this Chromium reads QR codes itself
      await page.waitForSelector("#camera-note:not(:empty)");
      expect(await page.isDisabled("#camera")).toBe(true);
      expect(await page.textContent("#camera-note")).toBe(
        "This browser cannot read QR codes with the camera: type or paste the code.",
      );
    });
  });

  it("sends a code held in front of the camera once, and the next guest's code at once", async () => {
    await onPhone(async (page) => {
      const sent: string[] = [];
      page.on("request", (r) => {
        if (r.method() === "POST" && r.url().endsWith("/v1/checkins")) sent.push(JSON.parse(r.postData() ?? "{}").code);
      });
      await signIn(page, door.scannerToken);
      await page.waitForSelector("#camera:not([disabled])");
      await page.click("#camera");
      await page.waitForSelector("#video:not([hidden])");
      expect(await page.getAttribute("#camera", "aria-pressed")).toBe("true");

      await page.evaluate(`window.cameraSees = [${JSON.stringify(ticket(5).code)}]`);
      await page.waitForSelector('#verdict[data-result="admitted"]');
      // Held up for a second and a half (about ten frames): still one scan, still admitted.
      await page.waitForTimeout(1_500);
      expect(sent).toEqual([ticket(5).code]);
      expect(await readVerdict(page)).toMatchObject({
        result: "admitted",
        ticket: expect.stringContaining(ticket(5).id),
      });

      await page.evaluate(`window.cameraSees = [${JSON.stringify(ticket(6).code)}]`);
      await page.waitForSelector(`#verdict-ticket:has-text("${ticket(6).id}")`);
      expect(sent).toEqual([ticket(5).code, ticket(6).code]);
      expect(await readVerdict(page)).toMatchObject({ result: "admitted", word: "ADMITTED" });

      await page.click("#camera");
      expect(await page.isHidden("#video")).toBe(true);
    }, FAKE_CAMERA);
  });
});
