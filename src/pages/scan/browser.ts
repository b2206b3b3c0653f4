/**
 * The door scanner page's script: the token form, the in/out toggle, typed and camera scans sent to
 * `POST /v1/checkins`, and the verdict a door person reads from a metre away. Server text only ever
 * reaches the page through `textContent`.
 *
 * It runs in the browser, not in the Worker: page.ts serves `(${scanPageMain.toString()})()` inline,
 * the function's own source as the bundler left it, types stripped. So it is one TypeScript file that
 * tsc checks against the DOM (tsconfig.browser.json, a project that tsconfig.json and
 * test/tsconfig.json reference: the Worker's programs, which have no DOM, see only its generated
 * declaration), that Biome lints, and that needs no loader of its own. Chosen over a file imported as
 * text through a wrangler `[[rules]]` Text rule, which reaches the browser as written (so plain
 * JavaScript, typed only through JSDoc and a hand-kept declaration for the import) and which
 * @cloudflare/vitest-plugin would have to load the same way as wrangler's bundler.
 *
 * The price: the function must stand alone. No imports, and nothing from this module's scope at run
 * time (the `declare` and the interfaces below are types only, erased). The bundler renames locals
 * consistently and adds `__name(fn, "fn")` calls inside (wrangler's `keep_names`); page.ts defines
 * `__name` for the page.
 */

/** The Shape Detection API's barcode reader (Chromium), which TypeScript's DOM library lacks. */
declare class BarcodeDetector {
  constructor(options: { formats: string[] });
  static getSupportedFormats(): Promise<string[]>;
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}

/** What the check-in route answers: a verdict, or a problem body. */
interface Answer {
  result?: string;
  checkedInAt?: string;
  firstCheckedInAt?: string;
  exitedAt?: string;
  ticket?: TicketFields;
  code?: string;
  detail?: string;
  gate?: string;
  ticketId?: string;
}

interface TicketFields {
  id?: string;
  tierId?: string;
  seat?: string | null;
}

type Result = "idle" | "pending" | "admitted" | "exited" | "refused" | "offline" | "error";

export function scanPageMain(): void {
  const TOKEN_KEY = "boxoffice.scanner.token";
  const GATE_KEY = "boxoffice.scanner.gate";
  /** The camera seeing the same code again within this long is the same guest still holding it up. */
  const REPEAT_MS = 3000;
  const TIMEOUT_MS = 8000;
  const $ = (id: string) => document.getElementById(id) as HTMLElement;
  const field = (id: string) => $(id) as HTMLInputElement;

  /** What a refusal looks like at the door: the big word, and the reason line from the problem body. */
  const REFUSALS: Record<string, [string, (p: Answer) => string]> = {
    ALREADY_CHECKED_IN: [
      "ALREADY CHECKED IN",
      (p) => `Inside since ${when(p.checkedInAt || p.firstCheckedInAt)}${p.gate ? ` at gate ${p.gate}` : ""}`,
    ],
    NOT_CHECKED_IN: ["NOT CHECKED IN", () => "This ticket is not inside, so it cannot exit"],
    TICKET_VOID: ["VOID TICKET", () => "Refunded or cancelled: do not admit"],
    WRONG_EVENT: ["WRONG EVENT", () => "This ticket is for another event"],
    INVALID_TICKET_CODE: ["INVALID CODE", () => "Not a genuine ticket code"],
    TICKET_NOT_FOUND: ["NOT FOUND", () => "A genuine code, but there is no such ticket"],
    UNAUTHORIZED: ["TOKEN REFUSED", () => "This scanner's token is not accepted: forget it and paste a new one"],
  };

  function when(iso: string | undefined): string {
    if (!iso) return "an unknown time";
    const d = new Date(iso);
    const time: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
    return d.toDateString() === new Date().toDateString()
      ? d.toLocaleTimeString([], time)
      : d.toLocaleString([], { day: "numeric", month: "short", ...time });
  }

  function ticketLine(t: TicketFields): string {
    return [t.id && `Ticket ${t.id}`, t.tierId && `tier ${t.tierId}`, t.seat && `seat ${t.seat}`]
      .filter(Boolean)
      .join(" · ");
  }

  function show(result: Result, code: string | null | undefined, word: string, reason?: string, ticket?: string) {
    const v = $("verdict");
    v.dataset.result = result;
    if (code) v.dataset.code = code;
    else delete v.dataset.code;
    $("verdict-word").textContent = word;
    $("verdict-reason").textContent = reason || "";
    $("verdict-ticket").textContent = ticket || "";
    const ok = result === "admitted" || result === "exited";
    // A short buzz for yes, a long double one for anything else, so the door person need not look.
    if (navigator.vibrate && result !== "pending" && result !== "idle") navigator.vibrate(ok ? 80 : [200, 100, 200]);
  }

  function render(status: number, body: Answer | null): void {
    if (status === 200 && body && body.result === "admitted") {
      const again = body.firstCheckedInAt && body.firstCheckedInAt !== body.checkedInAt;
      show(
        "admitted",
        null,
        "ADMITTED",
        `Checked in at ${when(body.checkedInAt)}${again ? ` (back in; first in at ${when(body.firstCheckedInAt)})` : ""}`,
        ticketLine(body.ticket || {}),
      );
      return;
    }
    if (status === 200 && body && body.result === "exited") {
      show(
        "exited",
        null,
        "EXITED",
        `Let out at ${when(body.exitedAt)}: may come back in`,
        ticketLine(body.ticket || {}),
      );
      return;
    }
    const problem: Answer = body && typeof body === "object" ? body : {};
    const refusal = (problem.code && REFUSALS[problem.code]) || (status === 400 && REFUSALS.INVALID_TICKET_CODE);
    if (refusal) {
      show("refused", problem.code, refusal[0], refusal[1](problem), ticketLine({ id: problem.ticketId }));
      return;
    }
    // Anything else (a server fault, rate limiting) says nothing about the ticket: never red, never green.
    show(
      "error",
      problem.code,
      "NOT CHECKED",
      `Try again: the server answered ${status}${problem.detail ? `: ${problem.detail}` : ""}`,
    );
  }

  let latest = 0;
  async function check(raw: string): Promise<void> {
    const code = raw.trim();
    if (!code) return;
    const mine = ++latest;
    show("pending", null, "CHECKING…", code.length > 48 ? `${code.slice(0, 48)}…` : code);
    const gate = field("gate").value.trim();
    let res: Response;
    let body: Answer | null = null;
    try {
      res = await fetch("/v1/checkins", {
        method: "POST",
        headers: { Authorization: `Bearer ${localStorage.getItem(TOKEN_KEY)}`, "Content-Type": "application/json" },
        body: JSON.stringify({ code, direction: direction(), ...(gate ? { gate } : {}) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      body = await res.json().catch(() => null);
    } catch {
      if (mine === latest) show("offline", null, "NO CONNECTION", "Try again: this scan was not recorded");
      return;
    }
    // A slow answer to an earlier scan must not replace the verdict of the scan in front of the door.
    if (mine === latest) render(res.status, body);
  }

  // The token: asked once, kept on this device until "Forget token". The dashboard's QR of a new scanner
  // opens this page as /scan#token=<token>: taken from the fragment (never sent to a server) and cleared.
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    localStorage.setItem(TOKEN_KEY, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  function screen(): void {
    const token = localStorage.getItem(TOKEN_KEY);
    $("setup").hidden = Boolean(token);
    $("scanner").hidden = !token;
    (token ? $("code") : $("token")).focus();
  }
  $("setup-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = field("token").value.trim();
    if (!token) return;
    localStorage.setItem(TOKEN_KEY, token);
    field("token").value = "";
    screen();
  });
  $("forget").addEventListener("click", () => {
    stopCamera();
    localStorage.removeItem(TOKEN_KEY);
    show("idle", null, "READY", "Scan or type a ticket code");
    screen();
  });
  field("gate").value = localStorage.getItem(GATE_KEY) || "";
  $("gate").addEventListener("change", () => localStorage.setItem(GATE_KEY, field("gate").value.trim()));
  // Read at each scan (a reload may restore the toggle); the body's attribute only colours it.
  const direction = () => (document.querySelector("input[name=direction]:checked") as HTMLInputElement).value;
  for (const radio of document.querySelectorAll("input[name=direction]")) {
    radio.addEventListener("change", () => {
      document.body.dataset.direction = direction();
    });
  }
  document.body.dataset.direction = direction();

  // Typed or pasted codes (a USB barcode reader types too, then Enter).
  $("check-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const code = field("code").value;
    field("code").value = "";
    $("code").focus();
    check(code);
  });

  // The camera, where the browser can read QR codes.
  const camera = {
    stream: null as MediaStream | null,
    detector: null as BarcodeDetector | null,
    timer: 0,
    lastCode: "",
    lastSeen: 0,
  };
  const video = () => $("video") as HTMLVideoElement;

  async function cameraProblem(): Promise<string | null> {
    if (!("BarcodeDetector" in window)) {
      return "This browser cannot read QR codes with the camera: type or paste the code.";
    }
    if (!navigator.mediaDevices?.getUserMedia) {
      return "No camera access on this page (it needs HTTPS): type or paste the code.";
    }
    const formats = await BarcodeDetector.getSupportedFormats().catch((): string[] => []);
    return formats.includes("qr_code")
      ? null
      : "This browser's barcode reader does not read QR codes: type or paste the code.";
  }

  async function startCamera(): Promise<void> {
    try {
      camera.detector = new BarcodeDetector({ formats: ["qr_code"] });
      camera.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      stopCamera();
      $("camera-note").textContent =
        `The camera could not start (${(e as Error | null)?.name || e}): type or paste the code.`;
      return;
    }
    const v = video();
    v.srcObject = camera.stream;
    v.hidden = false;
    // Not awaited: play() waits for the first frame, and detection simply skips frames that are not there yet.
    v.play().catch(() => {});
    $("camera").textContent = "Stop camera";
    $("camera").setAttribute("aria-pressed", "true");
    $("camera-note").textContent = "Hold the ticket's QR code in front of the camera.";
    detectLoop();
  }

  function stopCamera(): void {
    clearTimeout(camera.timer);
    if (camera.stream) for (const track of camera.stream.getTracks()) track.stop();
    camera.stream = null;
    video().srcObject = null;
    video().hidden = true;
    $("camera").textContent = "Scan with camera";
    $("camera").setAttribute("aria-pressed", "false");
  }

  async function detectLoop(): Promise<void> {
    if (!camera.stream) return;
    try {
      const found = await (camera.detector as BarcodeDetector).detect(video());
      if (found.length > 0) seen((found[0] as { rawValue: string }).rawValue);
    } catch {
      // No frame yet: try the next one.
    }
    if (camera.stream) camera.timer = setTimeout(detectLoop, 150);
  }

  /** Each sighting renews the window, so a code held up for a while is sent once. */
  function seen(code: string): void {
    const now = Date.now();
    const repeat = code === camera.lastCode && now - camera.lastSeen < REPEAT_MS;
    camera.lastCode = code;
    camera.lastSeen = now;
    if (!repeat) check(code);
  }

  $("camera").addEventListener("click", () => (camera.stream ? stopCamera() : startCamera()));
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) stopCamera();
  });
  cameraProblem().then((problem) => {
    ($("camera") as HTMLButtonElement).disabled = Boolean(problem);
    $("camera-note").textContent = problem || "";
  });

  screen();
}
