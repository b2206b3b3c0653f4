/**
 * A ticket code as a QR code, drawn in the Worker as SVG markup to put inline in the page.
 *
 * With lean-qr (MIT, no dependencies, about 8 KB of ESM): it takes the encoding mode and the error
 * correction level explicitly, so the code is byte mode at exactly level M, the size docs/api.md's ticket
 * code format is made for (version 8), and it writes the SVG as a string, with no DOM, canvas or Node API,
 * so it runs in workerd as it is. node-qrcode's entry brings Node's `fs` and pngjs into the bundle, and
 * uqr picks the mode itself; qrcode-generator would do as well, in a bundle six times the size.
 */
import { correction, generate, mode } from "lean-qr";
import { toSvgSource } from "lean-qr/extras/svg";

const utf8 = new TextEncoder();

/** The QR code of `text` (byte mode, level M) as an `<svg>` element, with the standard 4-module quiet zone. */
export function qrSvg(text: string): string {
  const code = generate(mode.bytes(utf8.encode(text)), {
    minCorrectionLevel: correction.M,
    maxCorrectionLevel: correction.M,
  });
  // Black on an explicit white square, so the code scans on any page background; sized by the page's CSS.
  return toSvgSource(code, { on: "#000", off: "#fff", pad: 4 });
}
