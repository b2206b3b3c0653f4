/**
 * The shop's HTML: the event's name and start drawn here, the empty sections browser.ts fills and shows
 * one at a time (the queue's waiting page, the tiers, the hold), the Event body as JSON for the script,
 * and the one page an unknown event gets. Every value is escaped by `html`; the JSON is escaped so that
 * no text of the event can close its element.
 */
import { html, raw } from "hono/html";
import type { z } from "zod";
import type { Event } from "../../routes/bodies";
import { shopMain } from "./browser";
import { waitingRoom } from "./queue/browser";
import { tierPicker } from "./tiers/browser";
import { shopWords } from "./words";

type EventBody = z.output<typeof Event>;

const STYLE = `
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;font:17px/1.45 system-ui,sans-serif;background:#f4f4f5;color:#17181c}
main{max-width:44rem;margin:0 auto;padding:1rem .75rem 3rem}
h1{font-size:1.6rem;line-height:1.2;margin:.25rem 0}
h2{font-size:1.25rem;margin:0 0 .75rem}
h3{font-size:1.1rem;margin:0}
h2:focus{outline:none}
.when{margin:0 0 1rem;color:#3d4049}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
section,.notice{background:#fff;border-radius:.75rem;padding:1rem;box-shadow:0 1px 3px #0002;margin-bottom:1rem}
.notice{border-left:5px solid #c1121f;background:#fff5f5}
.notice[data-kind=info]{border-left-color:#2f6fed;background:#f2f6ff}
.notice p{margin:0}
.notice button{margin-top:.75rem}
button,select,input{font:inherit;border-radius:.5rem}
button{min-height:2.75rem;padding:.5rem 1rem;border:0;cursor:pointer;background:#e4e5ea;color:inherit;font-weight:600}
button.primary{background:#2f6fed;color:#fff}
button:disabled{opacity:.55;cursor:progress}
:focus-visible{outline:3px solid #1d4fc4;outline-offset:2px}
select,input{min-height:2.75rem;padding:.4rem .6rem;border:2px solid #8a8e99;background:#fff;color:inherit}
input{width:100%}
ul{list-style:none;margin:0;padding:0}
.tier{border-top:1px solid #e4e5ea;padding:.9rem 0}
.tier:first-child{border-top:0;padding-top:0}
.tier-head{display:flex;justify-content:space-between;gap:.75rem;align-items:baseline;flex-wrap:wrap}
.price{margin:0;font-weight:700}
.left{margin:.15rem 0 .5rem;color:#3d4049}
.tier[data-status=sold_out] .left,.tier[data-status=ended] .left{color:#8c1018;font-weight:600}
.qty{display:flex;align-items:center;gap:.75rem}
.qty select{min-width:5.5rem}
fieldset{border:0;margin:0;padding:0;min-width:0}
legend{font-weight:600;padding:0;margin-bottom:.4rem}
.seat-row{display:grid;grid-template-columns:1.5rem 1fr;gap:.35rem;margin-bottom:.35rem}
.row-seats{display:flex;flex-wrap:wrap;gap:.35rem}
.row-name{font-weight:700;color:#3d4049;padding-top:.55rem}
.seat{position:relative;display:inline-block}
.seat input{position:absolute;inset:0;opacity:0;margin:0;min-height:0;cursor:pointer}
.seat span{display:block;min-width:2.9rem;padding:.5rem .2rem;text-align:center;border-radius:.4rem;font-size:.9rem;
font-weight:600;background:#d8f3e0;color:#0a5c27;border:2px solid #8fd1a5}
.seat input:checked+span{background:#2f6fed;color:#fff;border-color:#1d4fc4}
.seat input:focus-visible+span{outline:3px solid #1d4fc4;outline-offset:2px}
.seat[data-status=held] span{background:#fff1cc;color:#6b4e00;border-color:#e0c060;text-decoration:line-through}
.seat[data-status=sold] span{background:#e4e5ea;color:#6b6e78;border-color:#c9cbd2;text-decoration:line-through}
.seat input:disabled{cursor:not-allowed}
.key{display:flex;gap:1rem;flex-wrap:wrap;font-size:.85rem;color:#3d4049;margin:.25rem 0 0}
.key span::before{content:"";display:inline-block;width:.8rem;height:.8rem;border-radius:.2rem;margin-right:.3rem;
vertical-align:-.1rem;background:#d8f3e0;border:1px solid #8fd1a5}
.key .k-held::before{background:#fff1cc;border-color:#e0c060}.key .k-sold::before{background:#e4e5ea;border-color:#c9cbd2}
.summary{display:flex;justify-content:space-between;align-items:center;gap:.75rem;flex-wrap:wrap;
border-top:1px solid #e4e5ea;margin-top:.5rem;padding-top:.9rem}
.summary p{margin:0;font-weight:600}
.fine{font-size:.9rem;color:#3d4049}
.timer{font-size:1.1rem;margin:0 0 .75rem}
#countdown{font-variant-numeric:tabular-nums;font-weight:800;font-size:1.6rem}
#held-items li{padding:.2rem 0}
.row{display:flex;gap:.5rem;flex-wrap:wrap;margin:.75rem 0}
#checkout-form{display:grid;gap:.35rem;margin-top:1rem}
#checkout-form label{font-weight:600;margin-top:.4rem}
#checkout-form button{margin-top:.75rem}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem;margin:1rem 0}
.facts div{background:#f2f6ff;border-radius:.5rem;padding:.75rem}
.facts dt{font-size:.9rem;color:#3d4049}.facts dd{margin:0;font-size:1.6rem;font-weight:800}
.turn{background:#d8f3e0;border-radius:.5rem;padding:.6rem .75rem;margin:0 0 .75rem}
`;

/**
 * browser.ts's function, as the bundler left its source, called once with the sources of the three it
 * builds on (the words, the tier pickers, the waiting page); `__name` is the helper that wrangler's `keep_names` makes the
 * bundle call (see src/pages/scan/page.ts).
 */
const SCRIPT = `const __name = (fn, name) => Object.defineProperty(fn, "name", { value: name, configurable: true });
(${shopMain.toString()})(${shopWords.toString()}, ${tierPicker.toString()}, ${waitingRoom.toString()});`;

/** JSON that can sit inside `<script type="application/json">`: no `<` can start `</script>` or `<!--`. */
const inertJson = (value: unknown) => JSON.stringify(value).replaceAll("<", "\\u003c");

/** The event's start in its own time zone, as a person reads it. */
function startTime(event: EventBody): string {
  const when = new Intl.DateTimeFormat("en-GB", {
    dateStyle: "full",
    timeStyle: "short",
    timeZone: event.timezone,
  }).format(new Date(event.startsAt));
  return `${when} (${event.timezone})`;
}

function frame(nonce: string, title: string, body: unknown) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style nonce="${nonce}">${raw(STYLE)}</style></head><body><main>${body}</main></body></html>`;
}

export function shopPage(nonce: string, event: EventBody) {
  const body = html`<header><h1>${event.name}</h1>
<p class="when"><time datetime="${event.startsAt}">${startTime(event)}</time></p></header>
<noscript><p class="notice">This shop needs JavaScript to hold and buy tickets.</p></noscript>
<div id="notice" class="notice" role="alert" hidden><p id="notice-text"></p>
<button id="notice-action" type="button" class="primary" hidden></button></div>

<section id="waiting" hidden aria-labelledby="waiting-title">
<h2 id="waiting-title" tabindex="-1">You are in the queue</h2>
<p id="queue-status" aria-live="polite">Joining the queue…</p>
<dl class="facts"><div><dt>Your place</dt><dd id="queue-position">…</dd></div>
<div><dt>Estimated wait</dt><dd id="queue-wait">…</dd></div></dl>
<p class="fine">Keep this page open: it moves on by itself when it is your turn. Reloading it keeps your place.</p>
</section>

<section id="choose" hidden aria-labelledby="choose-title">
<h2 id="choose-title" tabindex="-1">Choose your tickets</h2>
<p id="turn" class="turn" hidden></p>
<form id="choose-form"><ul id="tiers"></ul>
<div class="summary"><p id="total" aria-live="polite">No tickets chosen</p>
<button id="reserve" type="submit" class="primary">Reserve</button></div></form>
<p id="live" class="fine" aria-live="polite"></p>
</section>

<section id="hold" hidden aria-labelledby="hold-title">
<h2 id="hold-title" tabindex="-1">Your tickets are held for you</h2>
<p class="timer">Time left: <span id="countdown" role="timer">…</span></p>
<p id="hold-note" class="fine" aria-live="polite"></p>
<ul id="held-items" aria-label="Your tickets"></ul>
<p id="hold-total"></p>
<div class="row"><button id="extend" type="button">More time</button>
<button id="release" type="button">Change tickets</button></div>
<form id="checkout-form"><label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="email" maxlength="320" required>
<label for="name">Name (optional)</label><input id="name" name="name" autocomplete="name" maxlength="200">
<button id="pay" type="submit" class="primary">Pay</button></form>
<button id="return-pay" type="button" class="primary" hidden>Return to payment</button>
</section>

<section id="leaving" hidden aria-labelledby="leaving-title" role="status">
<h2 id="leaving-title" tabindex="-1">Taking you to payment…</h2>
<p class="fine">Your tickets stay held while you pay.</p></section>

<script type="application/json" id="event-data">${raw(inertJson(event))}</script>
<script type="module" nonce="${nonce}">${raw(SCRIPT)}</script>`;
  return frame(nonce, `Tickets: ${event.name}`, body);
}

/** The one page for an id that names no event: it says no more than that. */
export function noShopPage(nonce: string) {
  return frame(
    nonce,
    "No such event",
    html`<h1>No such event</h1><p>This link does not open an event's shop. Check that the whole link was copied,
or ask the organiser for it again.</p>`,
  );
}
