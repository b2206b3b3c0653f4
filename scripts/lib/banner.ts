import type { DemoEvent, DropEvent } from "./demo-event.ts";

/** Single-quotes for POSIX shells, so the printed commands can be pasted as they are. */
const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

const opensAt = (drop: DropEvent) => (drop.queue ? new Date(drop.queue.opensAt).toLocaleTimeString() : "?");

/** The shops of the demo events, first: where a person buys a ticket without writing a line. */
function shopLines(baseUrl: string, event: DemoEvent, drop: DropEvent): string[] {
  const shops: [string, string][] = [
    ["Shop", `${baseUrl}/e/${event.id}  (${event.name})`],
    [
      "Drop shop",
      `${baseUrl}/e/${drop.id}  (${drop.name}: the waiting page until its queue opens at ${opensAt(drop)})`,
    ],
    ["Dashboard", `${baseUrl}/dashboard  (the organiser's page: sign in with the admin token below)`],
    ["Sent e-mail", `${baseUrl}/dev/mail  (the ticket e-mails, newest first: each links to its tickets page)`],
  ];
  const width = Math.max(...shops.map(([label]) => label.length)) + 2;
  return shops.map(([label, url]) => `  ${label.padEnd(width)}${url}`);
}

function dropLines(baseUrl: string, drop: DropEvent): string[] {
  const join = `curl -s -X POST ${baseUrl}/v1/events/${drop.id}/queue -H 'Content-Type: application/json' -d '{}'`;
  const poll = `curl -s ${baseUrl}/v1/queue/<entry id> -H 'Authorization: Bearer <entry token>'`;
  const tier = drop.tiers[0]?.id ?? "<tier id>";
  const body = sh(JSON.stringify({ items: [{ tierId: tier, quantity: 2 }] }));
  const reserve = `curl -s -X POST ${baseUrl}/v1/events/${drop.id}/reservations -H 'Content-Type: application/json' -H 'Boxoffice-Admission: <pass>' -d ${body}`;
  return [
    `  Drop event  ${drop.id}  (${drop.name}: its queue opens at ${opensAt(drop)}, ${drop.queue?.admitPerMinute ?? "?"} buyers a minute)`,
    "  # join its queue (answers an entry with a token), then poll it until it is admitted",
    `  ${join}`,
    `  ${poll}`,
    "  # once admitted, the entry carries a pass: reserve with it (without one: 403 ADMISSION_REQUIRED)",
    `  ${reserve}`,
    "",
  ];
}

export function banner(baseUrl: string, adminToken: string, event: DemoEvent, drop: DropEvent): string {
  const eventUrl = `${baseUrl}/v1/events/${event.id}`;
  const ga = event.tiers.find((t) => t.kind === "general_admission");
  const seated = event.tiers.find((t) => t.kind === "seated");
  const reserve = (items: unknown) =>
    `curl -s -X POST ${eventUrl}/reservations -H 'Content-Type: application/json' -d ${sh(JSON.stringify({ items }))}`;

  const facts: [string, string][] = [
    ["Admin token", `${adminToken}  (from .dev.vars)`],
    ["Demo event", `${event.id}  (${event.name})`],
    ...event.tiers.map((t): [string, string] => [`  ${t.name}`, t.id]),
  ];
  const width = Math.max(...facts.map(([label]) => label.length)) + 2;

  const examples: [string, string][] = [["availability", `curl -s ${eventUrl}/availability`]];
  if (ga) examples.push(["reserve 2 general-admission tickets", reserve([{ tierId: ga.id, quantity: 2 }])]);
  if (seated) {
    examples.push([
      "reserve seats A1 and A2 (run again, it answers 409 while they are held)",
      reserve([{ tierId: seated.id, seats: ["A1", "A2"] }]),
    ]);
  }
  examples.push([
    "audit log (organiser only)",
    `curl -s ${eventUrl}/audit -H ${sh(`Authorization: Bearer ${adminToken}`)}`,
  ]);

  return [
    "",
    `  boxoffice is running at ${baseUrl}`,
    "",
    ...shopLines(baseUrl, event, drop),
    "",
    ...facts.map(([label, value]) => `  ${label.padEnd(width)}${value}`),
    "",
    ...examples.flatMap(([what, command]) => [`  # ${what}`, `  ${command}`]),
    "",
    '  A reservation response carries a "token": send it as `Authorization: Bearer <token>` to',
    "  GET or DELETE /v1/reservations/<id> and POST /v1/reservations/<id>/extend.",
    "",
    ...dropLines(baseUrl, drop),
    "  Press Ctrl-C to stop.",
    "",
  ].join("\n");
}
