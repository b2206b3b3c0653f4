/**
 * `GET /scan`: the door scanner page, one self-contained HTML document (inline CSS and script, no
 * other resource) that a door person opens on a phone. It keeps the scanner token in localStorage and
 * calls `POST /v1/checkins` for each code, typed or read by the camera; the script is browser.ts.
 * The policy below lets only this response's own inline code run.
 */

import { operation, Routes } from "../../routes/operation";
import { newNonce, scriptPagePolicy } from "../nonce";
import { scanPageMain } from "./browser";

const STYLE = `
*{box-sizing:border-box}[hidden]{display:none!important}
html{color-scheme:dark}body{margin:0;font:18px/1.4 system-ui,sans-serif;background:#15171c;color:#f4f4f5}
main{max-width:40rem;margin:0 auto;padding:.75rem}
h1{font-size:1.25rem;margin:0}
label,legend{font-weight:600}
input,button{font:inherit;font-size:1.2rem;min-height:3.25rem;border-radius:.5rem}
input{width:100%;padding:.5rem .75rem;border:2px solid #5b6070;background:#0d0e12;color:inherit}
input:focus-visible,button:focus-visible{outline:3px solid #8ab4ff;outline-offset:2px}
button{padding:.5rem 1rem;border:0;cursor:pointer;background:#333845;color:inherit;font-weight:600}
button:disabled{opacity:.45;cursor:not-allowed}
.primary{background:#2f6fed;color:#fff}
.bar{display:flex;align-items:center;justify-content:space-between;gap:.5rem;margin-bottom:.75rem}
.bar button{min-height:2.75rem;font-size:1rem}
#setup form{display:grid;gap:.6rem;margin-top:1rem}
.settings{display:flex;gap:.75rem;flex-wrap:wrap;align-items:end;margin-bottom:.75rem}
.direction{display:flex;border:0;padding:0;margin:0;gap:0}
.direction legend{padding:0;margin-bottom:.25rem}
.direction label{position:relative}
.direction input{position:absolute;opacity:0;inset:0;min-height:0;cursor:pointer}
.direction span{display:block;min-width:5.5rem;padding:.7rem 1rem;text-align:center;background:#333845;font-size:1.2rem}
.direction label:first-of-type span{border-radius:.5rem 0 0 .5rem}
.direction label:last-of-type span{border-radius:0 .5rem .5rem 0}
.direction input:checked+span{background:#f4f4f5;color:#15171c}
.direction input:focus-visible+span{outline:3px solid #8ab4ff}
.gate{flex:1;min-width:9rem}
#verdict{min-height:38vh;border-radius:.75rem;padding:1rem;display:flex;flex-direction:column;justify-content:center;
text-align:center;background:#2a2d36;margin-bottom:.75rem}
#verdict p{margin:.25rem 0}
#verdict-word{font-size:clamp(2.4rem,11vw,4.5rem);font-weight:800;line-height:1.05;letter-spacing:.02em}
#verdict-reason{font-size:1.35rem;font-weight:600}
#verdict-ticket{font-size:1rem;opacity:.9;overflow-wrap:anywhere}
#verdict[data-result=pending]{background:#35435c}
#verdict[data-result=admitted],#verdict[data-result=exited]{background:#0a7a33;color:#fff}
#verdict[data-result=refused]{background:#c1121f;color:#fff}
#verdict[data-result=offline],#verdict[data-result=error]{background:#f2a900;color:#111}
.row{display:flex;gap:.5rem;margin-top:.25rem}
.row button{min-width:6.5rem}
.camera{margin-top:.75rem}
.camera button{width:100%}
#camera-note{font-size:1rem;color:#c9ccd4}
video{width:100%;max-height:45vh;border-radius:.75rem;background:#000;object-fit:cover}
body[data-direction=out] .direction input:checked+span{background:#f2a900;color:#111}
`;

/**
 * The page's script: browser.ts's function, as the bundler left its source, called once. With wrangler's
 * `keep_names` (on by default) esbuild adds `__name(fn, "fn")` after each function the body declares,
 * calling a helper of the bundle's own: the page gets the same helper, unused where nothing calls it.
 */
const SCRIPT = `const __name = (fn, name) => Object.defineProperty(fn, "name", { value: name, configurable: true });
(${scanPageMain.toString()})();`;

const page = (nonce: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Door scanner</title>
<style nonce="${nonce}">${STYLE}</style></head><body data-direction="in"><main>
<section id="setup" hidden aria-labelledby="setup-title">
<h1 id="setup-title">Door scanner</h1>
<p>Paste the scanner token the organiser gave you. It stays on this device until you forget it.</p>
<form id="setup-form"><label for="token">Scanner token</label>
<input id="token" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" required>
<button type="submit" class="primary">Start scanning</button></form>
</section>
<section id="scanner" hidden aria-label="Scanner">
<div class="bar"><h1>Door scanner</h1><button id="forget" type="button">Forget token</button></div>
<div class="settings">
<fieldset class="direction"><legend>Direction</legend>
<label><input type="radio" name="direction" value="in" checked><span>In</span></label>
<label><input type="radio" name="direction" value="out"><span>Out</span></label></fieldset>
<div class="gate"><label for="gate">Gate (optional)</label>
<input id="gate" maxlength="100" autocomplete="off" placeholder="e.g. North"></div>
</div>
<div id="verdict" aria-live="assertive" aria-atomic="true" data-result="idle">
<p id="verdict-word">READY</p><p id="verdict-reason">Scan or type a ticket code</p><p id="verdict-ticket"></p></div>
<form id="check-form"><label for="code">Ticket code</label>
<div class="row"><input id="code" autocomplete="off" autocapitalize="off" spellcheck="false" enterkeyhint="go">
<button id="check" type="submit" class="primary">Check</button></div></form>
<div class="camera"><button id="camera" type="button" aria-pressed="false" disabled>Scan with camera</button>
<p id="camera-note"></p><video id="video" playsinline muted hidden></video></div>
</section></main>
<script type="module" nonce="${nonce}">${SCRIPT}</script></body></html>`;

const door = operation({
  method: "get",
  path: "/scan",
  summary: "The door scanner page",
  auth: "none",
  page: true,
  responses: { 200: { description: "An HTML page", contentType: "text/html" } },
});

export const scanPage = new Routes().on(door, (c) => {
  const nonce = newNonce();
  return c.body(page(nonce), 200, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": scriptPagePolicy(nonce, { img: "'self' data: blob:", media: "'self' blob:" }),
    // The page carries no secret, but a stale copy would keep old behaviour at the door.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
  });
});
