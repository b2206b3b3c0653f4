/**
 * `GET /dashboard`: the organiser's page, one self-contained HTML document (inline CSS and script, no other
 * resource). It asks for the organiser token once, keeps it in localStorage, and is a client of the public
 * API only (DESIGN.md 17): every number and every action is a call to `/v1/…` with that token, and every
 * refusal is the API's own problem+json. The script is browser.ts; the policy lets only this response's own
 * inline code run.
 */

import { z } from "zod";
import { readBody } from "../../lib/validate";
import { organiserOnly } from "../../middleware/auth";
import { operation, Routes } from "../../routes/operation";
import { qrSvg } from "../tickets/qr";

const QrInput = z.strictObject({ text: z.string().min(1).max(512) });

import { newNonce, scriptPagePolicy } from "../nonce";
import { dashboardMain } from "./browser";

const STYLE = `
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;font:16px/1.45 system-ui,sans-serif;background:#f5f6f8;color:#16181d}
main{max-width:72rem;margin:0 auto;padding:.75rem}
h1{font-size:1.35rem;margin:0}h2{font-size:1.1rem;margin:0 0 .5rem}h3{font-size:1rem;margin:.75rem 0 .35rem}
section,details{background:#fff;border:1px solid #d9dce3;border-radius:.6rem;padding:.75rem;margin:.75rem 0}
summary{font-weight:700;cursor:pointer}
label.inline{display:inline;font-weight:400}
label{font-weight:600;font-size:.9rem;display:block}
input,select,button{font:inherit;min-height:2.5rem;border-radius:.4rem}
input,select{padding:.35rem .5rem;border:1px solid #9ba1ad;background:#fff;color:inherit;width:100%}
input[type=checkbox]{width:auto;min-height:0}
button{padding:.35rem .9rem;border:1px solid #9ba1ad;background:#eef0f4;color:inherit;cursor:pointer;font-weight:600}
button:disabled{opacity:.5;cursor:not-allowed}
:focus-visible{outline:3px solid #2f6fed;outline-offset:2px}
.primary{background:#2f6fed;border-color:#2f6fed;color:#fff}
.danger{background:#fff;border-color:#c1121f;color:#a10f1a}
.bar{display:flex;align-items:center;justify-content:space-between;gap:.5rem;flex-wrap:wrap}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.5rem;align-items:end}
.row{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end}
.tier-row{display:grid;grid-template-columns:2fr 1fr 1fr 2fr auto;gap:.5rem;align-items:end;margin:.35rem 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e5ea;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#5b6170;font-size:.88rem}
.message{margin:.5rem 0 0;min-height:1.2em;overflow-wrap:anywhere}
.message[data-kind=error]{color:#a10f1a;font-weight:600}
.message[data-kind=ok]{color:#0a6a2d;font-weight:600}
.secret{font-family:ui-monospace,monospace;background:#fff7d6;border:1px solid #e0c45c;padding:.5rem;border-radius:.4rem;
overflow-wrap:anywhere;user-select:all}
code{font-family:ui-monospace,monospace;font-size:.88rem;overflow-wrap:anywhere}
div.qr svg{display:block;max-width:100%;height:auto}
ul.checks{list-style:none;padding:0;margin:.25rem 0}ul.checks li[data-ok=false]{color:#a10f1a;font-weight:600}
@media (max-width:40rem){.tier-row{grid-template-columns:1fr 1fr}.tier-row .wide{grid-column:1/-1}}
`;

/** The page's script: browser.ts's function as the bundler left it, called once (`__name`: see /scan's page.ts). */
const SCRIPT = `const __name = (fn, name) => Object.defineProperty(fn, "name", { value: name, configurable: true });
(${dashboardMain.toString()})();`;

const page = (nonce: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Organiser dashboard</title>
<style nonce="${nonce}">${STYLE}</style></head><body><main>
<section id="signin" hidden aria-labelledby="signin-title">
<h1 id="signin-title">Organiser dashboard</h1>
<p>Paste the organiser token. It stays in this browser until you sign out.</p>
<form id="signin-form"><label for="token">Organiser token</label>
<div class="row"><input id="token" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" required>
<button type="submit" class="primary">Sign in</button></div>
<p id="signin-message" class="message" role="alert"></p></form>
</section>
<div id="app" hidden>
<div class="bar"><h1>Organiser dashboard</h1><button id="signout" type="button">Sign out</button></div>
<section aria-labelledby="pick-title"><h2 id="pick-title">Event</h2>
<p class="muted">The API lists no events: open one by its id (the ones you opened or created here are remembered).</p>
<form id="open-form" class="row"><div><label for="event-id">Event id</label>
<input id="event-id" autocomplete="off" spellcheck="false" required placeholder="evt_…"></div>
<button type="submit" class="primary">Open</button>
<div><label for="recent">Recent events</label><select id="recent"><option value="">Choose…</option></select></div></form>
<p id="open-message" class="message" role="alert"></p>
</section>
<details id="create"><summary>Create an event</summary>
<form id="create-form"><div class="grid">
<div><label for="ev-name">Name</label><input id="ev-name" required maxlength="200"></div>
<div><label for="ev-starts">Starts at</label><input id="ev-starts" type="datetime-local" required></div>
<div><label for="ev-currency">Currency</label><input id="ev-currency" value="eur" required pattern="[a-z]{3}"></div>
</div>
<h3>Tiers</h3><p class="muted">Price in minor units (cents). A capacity, or seats (comma-separated labels) for a seated tier.</p>
<div id="tier-rows"></div>
<div class="row"><button type="button" id="add-tier">Add a tier</button>
<button type="submit" class="primary">Create the event</button></div>
<p id="create-message" class="message" role="alert"></p></form>
</details>
<div id="event" hidden>
<section aria-labelledby="event-title"><div class="bar"><div><h2 id="event-title"></h2>
<p class="muted"><code id="event-code"></code> · <a id="shop-link" href="#">shop page</a> · <span id="stats-updated"></span></p></div>
<button type="button" id="refresh">Refresh now</button></div>
<h3>Tiers</h3><div class="scroll"><table id="tiers"><thead><tr><th>Tier</th><th class="num">Price</th>
<th class="num">Capacity</th><th class="num">Sold</th><th class="num">Held</th><th class="num">Available</th>
<th class="num">Revenue</th><th class="num">Refunded</th><th class="num">Checked in</th><th>Sales window</th><th></th></tr></thead>
<tbody></tbody></table></div>
<p id="totals" class="muted"></p>
<form id="tier-form" hidden><h3 id="tier-form-title">Edit tier</h3><div class="grid">
<div><label for="tf-price">Price (minor units)</label><input id="tf-price" type="number" min="0" step="1" required></div>
<div><label for="tf-capacity">Capacity</label><input id="tf-capacity" type="number" min="1" step="1"></div>
<div><label for="tf-start">Sales start (empty: none)</label><input id="tf-start" type="datetime-local"></div>
<div><label for="tf-end">Sales end (empty: none)</label><input id="tf-end" type="datetime-local"></div>
</div><div class="row"><button type="submit" class="primary">Save the tier</button><button type="button" id="tf-cancel">Close</button></div>
</form>
<p id="tier-message" class="message" role="alert"></p>
<h3>Sales over time</h3><p class="muted">Tickets sold per minute, from the recent orders.</p>
<div id="chart" role="img" aria-label="Tickets sold per minute"></div>
</section>
<section aria-labelledby="queue-title"><h2 id="queue-title">Queue</h2>
<p id="queue-now"></p><dl id="queue-stats" class="grid"></dl>
<form id="queue-form"><div class="grid">
<div><label for="q-opens">Opens at</label><input id="q-opens" type="datetime-local" required></div>
<div><label for="q-rate">Admitted per minute</label><input id="q-rate" type="number" min="1" step="1" value="100" required></div>
</div><div class="row"><button type="submit" class="primary">Set the queue</button>
<button type="button" id="q-remove" class="danger">Remove the queue</button></div></form>
<p id="queue-message" class="message" role="alert"></p>
</section>
<section aria-labelledby="orders-title"><h2 id="orders-title">Recent orders</h2>
<div class="scroll"><table id="orders"><thead><tr><th>Order</th><th>Placed</th><th>Status</th><th>Buyer</th>
<th class="num">Tickets</th><th class="num">Amount</th><th class="num">Refunded</th><th></th></tr></thead><tbody></tbody></table></div>
<form id="refund-form" hidden><h3 id="refund-title">Refund</h3><fieldset id="refund-tickets"><legend>Tickets to refund</legend></fieldset>
<div><label for="refund-reason">Reason (optional)</label><input id="refund-reason" maxlength="500"></div>
<div class="row"><button type="submit" class="danger">Refund the chosen tickets</button><button type="button" id="refund-cancel">Close</button></div>
</form>
<p id="refund-message" class="message" role="alert"></p>
</section>
<section aria-labelledby="scanners-title"><h2 id="scanners-title">Scanners</h2>
<form id="scanner-form" class="row"><div><label for="sc-name">Name</label><input id="sc-name" required maxlength="200"></div>
<div><label for="sc-gate">Gate (optional)</label><input id="sc-gate" maxlength="100"></div>
<button type="submit" class="primary">Create a scanner</button></form>
<div id="scanner-new" hidden><p>The new scanner's token, shown this once: paste it into the <a href="/scan">door page</a>.</p>
<p id="scanner-token" class="secret"></p>
<div id="scanner-qr" class="qr" role="img" aria-label="The scanner token as a QR code, for the door phone's camera"></div></div>
<p id="scanner-message" class="message" role="alert"></p>
<div class="scroll"><table id="scanners"><thead><tr><th>Name</th><th>Gate</th><th>Created</th><th>Status</th><th></th></tr></thead>
<tbody></tbody></table></div>
</section>
<section aria-labelledby="verify-title"><div class="bar"><h2 id="verify-title">Verify</h2>
<button type="button" id="verify">Run the checks</button></div>
<p id="verify-result" role="status"></p><ul id="verify-checks" class="checks"></ul>
</section>
<section aria-labelledby="audit-title"><div class="bar"><h2 id="audit-title">Audit log</h2>
<div class="row"><button type="button" id="audit-newest">Newest</button><button type="button" id="audit-older">Older</button></div></div>
<div class="scroll"><table id="audit"><thead><tr><th>At</th><th>Action</th><th>Actor</th><th>Subject</th><th>Data</th></tr></thead>
<tbody></tbody></table></div><p id="audit-message" class="message" role="alert"></p>
</section>
</div>
<section aria-labelledby="hooks-title"><h2 id="hooks-title">Webhook endpoints</h2>
<p class="muted">The organiser's, for every event.</p>
<form id="hook-form" class="row"><div><label for="hk-url">URL</label><input id="hk-url" type="url" required></div>
<div><label for="hk-desc">Description (optional)</label><input id="hk-desc" maxlength="500"></div>
<button type="submit" class="primary">Add an endpoint</button></form>
<div id="hook-new" hidden><p>The endpoint's signing secret, shown this once:</p><p id="hook-secret" class="secret"></p></div>
<p id="hook-message" class="message" role="alert"></p>
<div id="hooks"></div>
</section>
</div></main>
<script type="module" nonce="${nonce}">${SCRIPT}</script></body></html>`;

const dashboard = operation({
  method: "get",
  path: "/dashboard",
  summary: "The organiser's dashboard page",
  auth: "none",
  page: true,
  responses: { 200: { description: "An HTML page", contentType: "text/html" } },
});

const qr = operation({
  method: "post",
  path: "/dashboard/qr",
  summary: "A QR code (SVG) of a text the dashboard shows, such as a new scanner's token",
  auth: "organiser",
  page: true,
  body: QrInput,
  responses: { 200: { description: "The QR code, byte mode, level M", contentType: "image/svg+xml" } },
});

export const dashboardPage = new Routes()
  .on(qr, organiserOnly(), async (c) => {
    const { text } = await readBody(c, qr.body);
    return c.body(qrSvg(text), 200, { "Content-Type": "image/svg+xml", "Cache-Control": "no-store" });
  })
  .on(dashboard, (c) => {
    const nonce = newNonce();
    return c.body(page(nonce), 200, {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": scriptPagePolicy(nonce),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "X-Robots-Tag": "noindex",
      "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    });
  });
