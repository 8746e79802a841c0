/**
 * The checks every venue makes before an order goes out, with Coinbase's reason strings: the live
 * Coinbase client and the paper exchange both call these, so a paper run refuses exactly what a
 * live run would.
 */

import type { PlaceOrderRequest, ProductRules, SubmittedSizes } from "./exchange.js";
import { checkOrderSize, floorToIncrement, roundPriceToIncrement } from "./order-math.js";

export type Refusal = { accepted: false; reason: string; message: string };

export function requestShapeProblem(r: PlaceOrderRequest): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(r.clientOrderId))
    return `clientOrderId ${JSON.stringify(r.clientOrderId)} must be 1-128 characters of A-Z a-z 0-9 _ -`;
  if (r.type === "MARKET") {
    if ((r.quoteSize === undefined) === (r.baseSize === undefined))
      return `${r.clientOrderId}: a MARKET order needs exactly one of quoteSize or baseSize`;
    if (r.limitPrice !== undefined) return `${r.clientOrderId}: a MARKET order takes no limitPrice`;
    return undefined;
  }
  if (r.baseSize === undefined || r.limitPrice === undefined)
    return `${r.clientOrderId}: a LIMIT order needs baseSize and limitPrice`;
  if (r.quoteSize !== undefined)
    return `${r.clientOrderId}: a LIMIT order is sized by baseSize, not quoteSize`;
  return undefined;
}

/** Sizes floored onto the product's grid, as the live venue submits them. */
export function floorToRules(r: PlaceOrderRequest, rules: ProductRules): SubmittedSizes {
  const sizes: SubmittedSizes = {};
  if (r.quoteSize !== undefined) sizes.quoteSize = floorToIncrement(r.quoteSize, rules.quoteIncrement);
  if (r.baseSize !== undefined) sizes.baseSize = floorToIncrement(r.baseSize, rules.baseIncrement);
  if (r.limitPrice !== undefined)
    sizes.limitPrice = roundPriceToIncrement(r.limitPrice, rules.priceIncrement, r.side);
  return sizes;
}

/** Everything the live venue refuses before talking to the exchange; undefined when the order may go. */
export function localRefusal(
  request: PlaceOrderRequest,
  rules: ProductRules,
): { refusal: Refusal } | { submitted: SubmittedSizes } {
  const refuse = (reason: string, message: string) => ({
    refusal: { accepted: false as const, reason, message },
  });
  const shape = requestShapeProblem(request);
  if (shape) return refuse("INVALID_ORDER_REQUEST", shape);
  if (!rules.tradable)
    return refuse(
      "PRODUCT_NOT_TRADABLE",
      `${request.productId} is not tradable now (offline, disabled or cancel-only)`,
    );
  if (request.type === "MARKET" && (rules.limitOnly || rules.postOnly))
    return refuse(
      "MARKET_ORDERS_DISABLED",
      `${request.productId} is ${rules.limitOnly ? "limit-only" : "post-only"} at the moment; place a LIMIT order`,
    );
  let submitted: SubmittedSizes;
  try {
    submitted = floorToRules(request, rules);
  } catch (error) {
    return refuse("INVALID_ORDER_REQUEST", `${request.clientOrderId}: ${(error as Error).message}`);
  }
  const sizeCheck = checkOrderSize(rules, submitted);
  if (!sizeCheck.ok)
    return refuse(sizeCheck.violation ?? "INVALID_SIZE", `${request.clientOrderId}: ${sizeCheck.message}`);
  return { submitted };
}
