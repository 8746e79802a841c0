/**
 * The checks every venue makes before an order goes out, with Coinbase's reason strings: the live
 * Coinbase client and the paper exchange both call these, so a paper run refuses exactly what a
 * live run would.
 */

import { Decimal } from "decimal.js";
import type { PlaceOrderRequest, ProductRules, StopDirection, SubmittedSizes } from "./exchange.js";
import { checkOrderSize, compareDecimals, floorToIncrement, roundPriceToIncrement } from "./order-math.js";

export type Refusal = { accepted: false; reason: string; message: string };

/** A SELL stop protects a long position (it waits for the price to fall); a BUY stop waits for a rise. */
export function stopDirectionOf(side: PlaceOrderRequest["side"]): StopDirection {
  return side === "SELL" ? "STOP_DOWN" : "STOP_UP";
}

export function requestShapeProblem(r: PlaceOrderRequest): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(r.clientOrderId))
    return `clientOrderId ${JSON.stringify(r.clientOrderId)} must be 1-128 characters of A-Z a-z 0-9 _ -`;
  switch (r.type) {
    case "MARKET":
      if ((r.quoteSize === undefined) === (r.baseSize === undefined))
        return `${r.clientOrderId}: a MARKET order needs exactly one of quoteSize or baseSize`;
      if (r.limitPrice !== undefined) return `${r.clientOrderId}: a MARKET order takes no limitPrice`;
      if (r.stopPrice !== undefined)
        return `${r.clientOrderId}: a MARKET order takes no stopPrice; place a STOP_LIMIT to rest a stop`;
      return undefined;
    case "LIMIT":
      if (r.baseSize === undefined || r.limitPrice === undefined)
        return `${r.clientOrderId}: a LIMIT order needs baseSize and limitPrice`;
      if (r.quoteSize !== undefined)
        return `${r.clientOrderId}: a LIMIT order is sized by baseSize, not quoteSize`;
      if (r.stopPrice !== undefined)
        return `${r.clientOrderId}: a LIMIT order takes no stopPrice; place a STOP_LIMIT to rest a stop`;
      return undefined;
    case "STOP_LIMIT":
      if (r.baseSize === undefined || r.limitPrice === undefined || r.stopPrice === undefined)
        return `${r.clientOrderId}: a STOP_LIMIT order needs baseSize, stopPrice and limitPrice`;
      if (r.quoteSize !== undefined)
        return `${r.clientOrderId}: a STOP_LIMIT order is sized by baseSize, not quoteSize`;
      return undefined;
    default:
      return `${r.clientOrderId}: order type ${JSON.stringify(r.type)} is not one of MARKET, LIMIT, STOP_LIMIT`;
  }
}

/** Sizes floored onto the product's grid, as the live venue submits them. */
export function floorToRules(r: PlaceOrderRequest, rules: ProductRules): SubmittedSizes {
  const sizes: SubmittedSizes = {};
  if (r.quoteSize !== undefined) sizes.quoteSize = floorToIncrement(r.quoteSize, rules.quoteIncrement);
  if (r.baseSize !== undefined) sizes.baseSize = floorToIncrement(r.baseSize, rules.baseIncrement);
  if (r.limitPrice !== undefined)
    sizes.limitPrice = roundPriceToIncrement(r.limitPrice, rules.priceIncrement, r.side);
  if (r.stopPrice !== undefined)
    sizes.stopPrice = roundPriceToIncrement(r.stopPrice, rules.priceIncrement, r.side, "stop price");
  return sizes;
}

/**
 * A stop-limit whose limit is on the wrong side of its stop: when a SELL stop triggers the price is
 * at or below the stop, so a limit above it would not fill and the position would stay unprotected.
 * Checked on the prices as requested (grid rounding is monotonic, so what is sent agrees).
 * Reasons as Coinbase's preview names them (PREVIEW_STOP_PRICE_BELOW_LIMIT_PRICE, ..._ABOVE_...).
 */
function stopLimitProblem(r: PlaceOrderRequest): Refusal | undefined {
  if (r.type !== "STOP_LIMIT" || r.stopPrice === undefined || r.limitPrice === undefined) return undefined;
  const limitVersusStop = compareDecimals(r.limitPrice, r.stopPrice);
  if (r.side === "SELL" && limitVersusStop > 0)
    return {
      accepted: false,
      reason: "STOP_PRICE_BELOW_LIMIT_PRICE",
      message:
        `${r.clientOrderId}: STOP_LIMIT SELL ${r.productId} has limit price ${r.limitPrice} above its stop price ` +
        `${r.stopPrice}; once the stop triggers the price is at or below ${r.stopPrice}, so it would never fill ` +
        "as a protective stop. Set limitPrice at or below stopPrice.",
    };
  if (r.side === "BUY" && limitVersusStop < 0)
    return {
      accepted: false,
      reason: "STOP_PRICE_ABOVE_LIMIT_PRICE",
      message:
        `${r.clientOrderId}: STOP_LIMIT BUY ${r.productId} has limit price ${r.limitPrice} below its stop price ` +
        `${r.stopPrice}; once the stop triggers the price is at or above ${r.stopPrice}, so it would never fill. ` +
        "Set limitPrice at or above stopPrice.",
    };
  return undefined;
}

/**
 * A stop the last trade price has already reached would trigger at once: Coinbase refuses it
 * (PREVIEW_STOP_PRICE_ABOVE_LAST_TRADE_PRICE for a SELL, ..._BELOW_... for a BUY), and so does
 * the paper venue. The caller then trades at market instead.
 */
export function stopVersusLastTrade(
  r: Pick<PlaceOrderRequest, "clientOrderId" | "productId" | "side">,
  stopPrice: string,
  lastTradePrice: string | number,
): Refusal | undefined {
  // decided on the digits; only a refusal needs the decimal text of its message
  const stopVersusLast = compareDecimals(stopPrice, lastTradePrice);
  if (r.side === "SELL" ? stopVersusLast < 0 : stopVersusLast > 0) return undefined;
  const stop = new Decimal(stopPrice);
  const last = new Decimal(lastTradePrice);
  if (r.side === "SELL" && stop.gte(last))
    return {
      accepted: false,
      reason: "STOP_PRICE_ABOVE_LAST_TRADE_PRICE",
      message:
        `${r.clientOrderId}: STOP_LIMIT SELL ${r.productId} stop price ${stopPrice} is not below the last trade ` +
        `price ${last.toFixed()}: it would trigger at once. Sell at market, or set the stop below the price.`,
    };
  if (r.side === "BUY" && stop.lte(last))
    return {
      accepted: false,
      reason: "STOP_PRICE_BELOW_LAST_TRADE_PRICE",
      message:
        `${r.clientOrderId}: STOP_LIMIT BUY ${r.productId} stop price ${stopPrice} is not above the last trade ` +
        `price ${last.toFixed()}: it would trigger at once. Buy at market, or set the stop above the price.`,
    };
  return undefined;
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
  const stopLimit = stopLimitProblem(request);
  if (stopLimit) return { refusal: stopLimit };
  const sizeCheck = checkOrderSize(rules, submitted);
  if (!sizeCheck.ok)
    return refuse(sizeCheck.violation ?? "INVALID_SIZE", `${request.clientOrderId}: ${sizeCheck.message}`);
  return { submitted };
}
