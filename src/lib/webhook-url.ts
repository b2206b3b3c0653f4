/**
 * Where a webhook may be sent (API.md, "Webhooks to the organiser's systems"): `https://` on a public
 * host. Decided from the URL alone, resolving nothing: a name resolved now could point elsewhere when a
 * message is sent (DNS rebinding), so what is refused is what the URL itself says. Refused: any scheme
 * but https, userinfo, port 0, names that only mean something locally (`localhost`, single labels,
 * `.local`, `.internal`, …) and IP literals in a private, loopback, link-local, unspecified or otherwise
 * non-public range, in every spelling the URL parser accepts (it turns `0x7f.1` or `2130706433` into
 * `127.0.0.1`; IPv4-mapped, -compatible, NAT64 and 6to4 IPv6 forms are judged by the IPv4 address they
 * carry). With `allowLocal` (WEBHOOK_ALLOW_LOCAL=true) `http(s)://127.0.0.1:<port>` and
 * `http(s)://localhost:<port>` are accepted as well; private addresses stay refused even then.
 */

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** The hosts `allowLocal` lets through (with an explicit port). */
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost"]);

/** Names that resolve only inside some network, never to a public host. */
const LOCAL_SUFFIXES = [
  "localhost",
  "local",
  "internal",
  "intranet",
  "lan",
  "home",
  "corp",
  "home.arpa",
  "localdomain",
];

interface Range {
  /** The network, as bytes. */
  net: number[];
  bits: number;
  what: string;
}

const v4 = (a: number, b: number, c: number, d: number, bits: number, what: string): Range => ({
  net: [a, b, c, d],
  bits,
  what,
});

const V4_REFUSED: readonly Range[] = [
  v4(0, 0, 0, 0, 8, "unspecified (0.0.0.0/8)"),
  v4(10, 0, 0, 0, 8, "private (10.0.0.0/8)"),
  v4(100, 64, 0, 0, 10, "shared (100.64.0.0/10)"),
  v4(127, 0, 0, 0, 8, "loopback (127.0.0.0/8)"),
  v4(169, 254, 0, 0, 16, "link-local (169.254.0.0/16)"),
  v4(172, 16, 0, 0, 12, "private (172.16.0.0/12)"),
  v4(192, 0, 0, 0, 24, "special-purpose (192.0.0.0/24)"),
  v4(192, 168, 0, 0, 16, "private (192.168.0.0/16)"),
  v4(198, 18, 0, 0, 15, "benchmarking (198.18.0.0/15)"),
  v4(224, 0, 0, 0, 4, "multicast (224.0.0.0/4)"),
  v4(240, 0, 0, 0, 4, "reserved (240.0.0.0/4)"),
];

const v6 = (prefix: number[], bits: number, what: string): Range => ({
  net: [...prefix, ...Array<number>(16 - prefix.length).fill(0)],
  bits,
  what,
});

const V6_REFUSED: readonly Range[] = [
  v6([], 128, "unspecified (::)"),
  v6([...Array<number>(15).fill(0), 1], 128, "loopback (::1)"),
  v6([0xfc], 7, "private (fc00::/7)"),
  v6([0xfe, 0x80], 10, "link-local (fe80::/10)"),
  v6([0xfe, 0xc0], 10, "site-local (fec0::/10)"),
  v6([0xff], 8, "multicast (ff00::/8)"),
];

function inRange(bytes: number[], range: Range): boolean {
  for (let bit = 0; bit < range.bits; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((bytes[i] as number) & mask) !== ((range.net[i] as number) & mask)) return false;
  }
  return true;
}

/** The four bytes of a dotted-decimal IPv4 address (the form the URL parser leaves), or null. */
function parseV4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

/** The sixteen bytes of a bracketed IPv6 literal (`[::1]`), or null. */
function parseV6(host: string): number[] | null {
  if (!host.startsWith("[") || !host.endsWith("]")) return null;
  let text = host.slice(1, -1);
  const tail: number[] = [];
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted?.[1]) {
    const bytes = parseV4(dotted[1]);
    if (!bytes) return null;
    tail.push(...bytes);
    text = `${text.slice(0, -dotted[1].length)}0:0`;
  }
  const [head = "", rest] = text.split("::");
  if (text.split("::").length > 2) return null;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const missing = 8 - left.length - right.length;
  if (rest === undefined ? missing !== 0 : missing < 0) return null;
  const all = [...left, ...Array<string>(missing).fill("0"), ...right];
  const bytes: number[] = [];
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    const n = Number.parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  if (tail.length > 0) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The IPv4 address an IPv6 one carries (mapped, compatible, translated, NAT64, 6to4), or null. */
function embeddedV4(b: number[]): number[] | null {
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const last4 = b.slice(12, 16);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return last4; // ::ffff:a.b.c.d
  if (zeros(0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(10, 12)) return last4; // ::ffff:0:a.b.c.d
  if (zeros(0, 12)) return last4; // ::a.b.c.d (deprecated; also :: and ::1)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return last4; // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6); // 2002::/16
  return null;
}

/** What kind of address refused `bytes` is, or null for a public one. */
function refusedAddress(bytes: number[]): string | null {
  if (bytes.length === 4) return V4_REFUSED.find((r) => inRange(bytes, r))?.what ?? null;
  const own = V6_REFUSED.find((r) => inRange(bytes, r))?.what;
  if (own) return own;
  const carried = embeddedV4(bytes);
  return carried ? refusedAddress(carried) : null;
}

/** The authority as written (after `//`, before the path), where userinfo would stand. */
function authorityOf(raw: string): string {
  const start = raw.indexOf("//");
  if (start < 0) return "";
  const rest = raw.slice(start + 2);
  const end = rest.search(/[/?#\\]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Why `raw` is refused as a webhook URL, or null if it is accepted. */
export function webhookUrlProblem(raw: string, allowLocal: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute https:// URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an https:// URL";
  if (url.username !== "" || url.password !== "" || authorityOf(raw).includes("@")) {
    return "must not contain a user name or password";
  }
  if (url.port === "0") return "must not use port 0";
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (allowLocal && LOCAL_HOSTS.has(host)) {
    return url.port === "" ? "must name its port: http://127.0.0.1:<port> or http://localhost:<port>" : null;
  }
  if (url.protocol !== "https:") {
    return allowLocal
      ? "must be an https:// URL (http:// only for 127.0.0.1 or localhost with a port)"
      : "must be an https:// URL";
  }
  const address = parseV4(host) ?? parseV6(host);
  if (address) {
    const what = refusedAddress(address);
    return what ? `must not point at a ${what} address` : null;
  }
  if (!host.includes(".") || LOCAL_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`))) {
    return "must be on a public host name";
  }
  return null;
}
