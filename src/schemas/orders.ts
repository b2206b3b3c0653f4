import { z } from "zod";
import { label } from "./common";

const returnUrl = z.url({ protocol: /^https?$/ }).max(2000);

export const CheckoutInput = z.strictObject({
  email: z.email().max(320),
  name: label(200).optional(),
  successUrl: returnUrl.optional(),
  cancelUrl: returnUrl.optional(),
});
export type CheckoutInput = z.infer<typeof CheckoutInput>;
