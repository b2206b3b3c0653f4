/**
 * The clients the load harnesses stand for. The service limits each client, which is its
 * `CF-Connecting-IP` (../shared/API.md, "Drops": a local load tool that sends the header stands for as
 * many clients as it sends addresses): 50 requests per 10 s on the buyer routes, 300 on the scanner
 * routes, and 20 tickets held per event. So every simulated buyer, scanner and organiser sends an
 * address of its own, from the documentation range 2001:db8::/32 (RFC 3849), its /64 its own (see
 * `nextAddress`): a run number random per process, so that a run against a long-lived service (`--url`,
 * `npm start`) is unlikely to reuse the clients of the run before it, and a count, so no client is
 * handed out twice in one process.
 *
 * How many requests an address may send is the caller's to keep under the limits: a buyer whose every
 * purchase is a new client (`nextAddress()` per purchase), a load generator that gives each request its
 * own address, or a `Client` that moves to a new address once it has sent its limit's worth.
 */
import { randomInt } from "node:crypto";

export const CLIENT_HEADER = "CF-Connecting-IP";

export type ClientRole = "buyer" | "scanner" | "organiser";

const ROLE_GROUP: Record<ClientRole, number> = { buyer: 0, scanner: 1, organiser: 2 };

/**
 * Requests an address may send in any 10 s: the buyer routes' limit (organisers count as buyers: the
 * dashboard reads availability), and the scanner routes'.
 */
export const REQUESTS_PER_10S: Record<ClientRole, number> = { buyer: 50, scanner: 300, organiser: 50 };

const RUN = randomInt(0x100);
const handedOut = { all: 0 };

/** Eight 16-bit groups as RFC 5952 writes them: lower-case hex, the longest run of two or more zeros as `::`. */
function ipv6(groups: readonly number[]): string {
  let start = -1;
  let length = 1;
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > length) [start, length] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: readonly number[]) => gs.map((g) => g.toString(16)).join(":");
  return start < 0 ? hex(groups) : `${hex(groups.slice(0, start))}::${hex(groups.slice(start + length))}`;
}

/**
 * A new address for a client of `role`, never handed out before in this process. The service counts an
 * IPv6 client by its /64, so what makes clients distinct is in the first 64 bits: the run (8 bits) and
 * a count (24 bits, 16 million clients a run) across all roles; the role is in the interface part.
 */
export function nextAddress(role: ClientRole = "buyer"): string {
  const n = ++handedOut.all;
  return ipv6([0x2001, 0xdb8, (RUN << 8) | (n >>> 16), n & 0xffff, ROLE_GROUP[role], 0, 0, 1]);
}

/** The header that makes a request come from `address`. */
export const clientHeader = (address: string): Record<string, string> => ({ [CLIENT_HEADER]: address });

/**
 * One simulated client (a scanner at the door, an organiser's dashboard) whose requests come from one
 * address, until it has sent `budget` of them (default: its role's limit in 10 s): then it moves to a
 * new one. No address sends more than `budget` in all, so none goes over the limit in any 10 s.
 */
export class Client {
  readonly #role: ClientRole;
  readonly #budget: number;
  #address: string;
  #sent = 0;

  constructor(role: ClientRole, budget = REQUESTS_PER_10S[role]) {
    this.#role = role;
    this.#budget = budget;
    this.#address = nextAddress(role);
  }

  /** The header for its next request. */
  header(): Record<string, string> {
    if (this.#sent === this.#budget) {
      this.#address = nextAddress(this.#role);
      this.#sent = 0;
    }
    this.#sent++;
    return clientHeader(this.#address);
  }
}
