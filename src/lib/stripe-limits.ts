/**
 * What Stripe would refuse in a Checkout Session, refused here first (issue 10): a currency Stripe does
 * not present, a paid amount below the currency's minimum charge, an amount above its maximum, an
 * amount in a unit Stripe does not charge. Refused when the organiser sets a price (event and tier
 * creation, tier PATCH) and again at checkout, before the order opens; otherwise the buyer would meet
 * it as a reservation stuck in `checkout`. Amounts are integer minor units, currencies lowercase ISO
 * 4217 (docs/api.md). Pure: no I/O.
 *
 * Source of every number: Stripe, "Supported currencies", https://docs.stripe.com/currencies, read as
 * stored copies of the page (the search tool has no live web; it gave two copies, not the page itself):
 * - The presentment list (#presentment-currencies) and the zero-decimal list (#zero-decimal) are from a
 *   rendered copy of about 2023 (its ISK note is dated 2023-04-14). Newer copies of the page fill that
 *   list in with a script, so no newer list was available; currencies Stripe added since are refused
 *   here until they are added below. Stripe still lists `std`, the old São Tomé dobra code; the ISO 4217
 *   check of `src/schemas/common.ts` refuses it first.
 * - The three-decimal currencies (BHD, JOD, KWD, OMR, TND) are not in that presentment list (the 2023
 *   copy only says the API takes their amounts if the last digit is 0; the newer page no longer mentions
 *   them), so they are refused as unsupported.
 * - Minimums (#minimum-and-maximum-charge-amounts, "Use these minimum amounts by currency") and maximums
 *   ("Other payment methods": 8 digits, 99,999,999, except IDR 12, COP 10 and INR 9 digits) are from the
 *   newer copy (2025 or later). Card payments may go higher, but a Checkout Session can offer any payment
 *   method, so the lower limit stands. BGN's minimum (1.00) is from the 2023 copy; the newer list drops
 *   BGN.
 * - Stripe's minimum is set by the account's settlement currency, after conversion. When the charge is
 *   in a currency with a listed minimum, that minimum is the one used here. For other currencies Stripe
 *   publishes no figure (it depends on the day's rate), so only a paid amount of 0 is refused here, and
 *   Stripe may still refuse a very small one.
 * - #special-cases: ISK and UGX are charged in whole units but written with two decimals, so their
 *   amounts must be multiples of 100. HUF and TWD are special only for payouts.
 */
import { type FieldError, invalidInput } from "./errors";

/** Stripe's maximum amount for most currencies: 8 digits. */
export const STRIPE_MAX_AMOUNT = 99_999_999;

/** Presentment currencies (#presentment-currencies), lowercase. */
const PRESENTMENT = `
  usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf
  clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr
  ils inr isk jmd jpy kes kgs khr kmf krw kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk
  mxn myr mzn nad ngn nio nok npr nzd pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp
  sle sos srd std szl thb tjs top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw
`
  .trim()
  .split(/\s+/);

/** Zero-decimal currencies (#zero-decimal): the amount is in whole units. */
const ZERO_DECIMAL = new Set("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split(" "));

/** Minimum charge amounts, in minor units (JPY and KRW are zero-decimal: 50 is ¥50, ₩50). */
const MINIMUM: Readonly<Record<string, number>> = {
  usd: 50,
  aed: 200,
  ars: 50,
  aud: 50,
  bgn: 100,
  brl: 50,
  cad: 50,
  chf: 50,
  cop: 50,
  czk: 1500,
  dkk: 250,
  eur: 50,
  gbp: 30,
  hkd: 400,
  huf: 17500,
  idr: 50,
  ils: 50,
  inr: 50,
  jpy: 50,
  krw: 50,
  mxn: 1000,
  myr: 200,
  nok: 300,
  nzd: 50,
  php: 50,
  pln: 200,
  ron: 200,
  rub: 50,
  sek: 300,
  sgd: 50,
  thb: 1000,
  zar: 50,
};

/** Maximums that differ from `STRIPE_MAX_AMOUNT`, in minor units. */
const MAXIMUM: Readonly<Record<string, number>> = {
  idr: 999_999_999_999,
  cop: 9_999_999_999,
  inr: 999_999_999,
};

/** Currencies charged in whole units but written with two decimals (#special-cases). */
const STEP: Readonly<Record<string, number>> = { isk: 100, ugx: 100 };

export interface ChargeLimits {
  /** The smallest paid amount, in minor units (0 is always allowed: a free tier or order). */
  min: number;
  max: number;
  /** Paid amounts are multiples of this. */
  step: number;
  /** Decimals of the minor unit, for messages. */
  decimals: number;
}

export const CHARGE_LIMITS: ReadonlyMap<string, ChargeLimits> = new Map(
  PRESENTMENT.map((currency) => {
    const step = STEP[currency] ?? 1;
    return [
      currency,
      {
        min: Math.max(MINIMUM[currency] ?? 1, step),
        max: MAXIMUM[currency] ?? STRIPE_MAX_AMOUNT,
        step,
        decimals: ZERO_DECIMAL.has(currency) ? 0 : 2,
      },
    ];
  }),
);

/** The largest amount any currency allows: the static cap of a price before its currency is known. */
export const LARGEST_MAX_AMOUNT = Math.max(...[...CHARGE_LIMITS.values()].map((l) => l.max));

export const isStripeCurrency = (currency: string) => CHARGE_LIMITS.has(currency);

export const UNSUPPORTED_CURRENCY = "is not a currency Stripe can charge in (docs.stripe.com/currencies)";

function money(amount: number, currency: string, limits: ChargeLimits): string {
  return `${(amount / 10 ** limits.decimals).toFixed(limits.decimals)} ${currency.toUpperCase()}`;
}

/** Above the maximum or not a whole unit: what no single amount (a price, a line, a total) may be. */
function unitProblem(currency: string, amount: number, limits: ChargeLimits): string | null {
  if (amount > limits.max) {
    return `must be at most ${limits.max} (${money(limits.max, currency, limits)}, Stripe's maximum charge)`;
  }
  if (amount % limits.step !== 0) {
    return `must be a multiple of ${limits.step}: Stripe charges ${currency.toUpperCase()} in whole units`;
  }
  return null;
}

/** Why Stripe would refuse `amount` of `currency` as a charge, or null. 0 (free) is never refused. */
export function amountProblem(currency: string, amount: number): string | null {
  // Free is never charged, whatever the currency (an event made before this table may have any).
  if (amount === 0) return null;
  const limits = CHARGE_LIMITS.get(currency);
  if (!limits) return `cannot be charged: the event's currency '${currency}' ${UNSUPPORTED_CURRENCY}`;
  if (amount < limits.min) {
    return `must be 0 (free) or at least ${limits.min} (${money(limits.min, currency, limits)}, Stripe's minimum charge)`;
  }
  return unitProblem(currency, amount, limits);
}

/** A price as organiser input: `400 INVALID_INPUT` naming `path` if Stripe would refuse it. */
export function assertPrice(currency: string, price: number, path = "price"): void {
  const problem = amountProblem(currency, price);
  if (problem) throw invalidInput([{ path, message: problem }]);
}

/**
 * What Stripe would refuse in an order's Checkout Session: the currency (path `currency`), a line's
 * unit amount (`items.<i>`, the reservation's item: above the maximum or not a whole unit; a line may be
 * below the minimum, only the total must reach it) and the total (`amount`, as the checkout answer
 * names it). A free order (total 0) never reaches Stripe: nothing to refuse.
 */
export function chargeProblems(currency: string, items: { quantity: number; unitPrice: number }[]): FieldError[] {
  const amount = items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0);
  if (amount === 0) return [];
  const limits = CHARGE_LIMITS.get(currency);
  if (!limits) return [{ path: "currency", message: `'${currency}' ${UNSUPPORTED_CURRENCY}` }];
  const errors: FieldError[] = [];
  items.forEach((item, i) => {
    const problem = unitProblem(currency, item.unitPrice, limits);
    if (problem) errors.push({ path: `items.${i}`, message: `a unit price of ${item.unitPrice} ${problem}` });
  });
  const total = amountProblem(currency, amount);
  if (total) errors.push({ path: "amount", message: `the order's total of ${amount} ${total}` });
  return errors;
}

/** At checkout, before the order opens: `400 INVALID_INPUT` if Stripe would refuse the session. */
export function assertChargeable(currency: string, items: { quantity: number; unitPrice: number }[]): void {
  const errors = chargeProblems(currency, items);
  if (errors.length > 0) throw invalidInput(errors, "Stripe would refuse to charge this order");
}
