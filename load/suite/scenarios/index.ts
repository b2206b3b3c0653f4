/** The suite's scenarios, in the order `npm run load` runs them. */
import type { SuiteScenario } from "../thresholds.ts";
import { checkoutRace } from "./checkout-race.ts";
import { dashboard } from "./dashboard.ts";
import { drop } from "./drop.ts";
import { purchaseRamp } from "./purchase-ramp.ts";
import { scannerRace } from "./scanner-race.ts";
import { scannerStress } from "./scanner-stress.ts";
import { ticketDrop } from "./ticket-drop.ts";
import { webhookBurst } from "./webhook-burst.ts";

export const SUITE: readonly SuiteScenario[] = [
  checkoutRace,
  purchaseRamp,
  scannerStress,
  scannerRace,
  webhookBurst,
  dashboard,
  ticketDrop,
  drop,
];
