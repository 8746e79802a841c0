/**
 * The paper venue (TRADING_MODE=paper, the default): the Exchange port on simulated books in
 * DynamoDB. It refuses what the live venue refuses (same increments, minimums and reason strings),
 * fills MARKET orders at once through the shared fill model, and rests LIMIT and STOP_LIMIT GTC
 * orders with their funds on hold until settleRestingOrders sees the market reach them.
 *
 * Resting stops (docs/ARCHITECTURE.md "Resting stops"): a STOP_LIMIT SELL whose stop is not below
 * the last price is refused (STOP_PRICE_ABOVE_LAST_TRADE_PRICE), as Coinbase does. Settlement
 * looks at the quote's candle when that candle closed after the stop was placed (its open/high/
 * low), otherwise at the last price alone, and applies stopLimitOutcome (fill-model.ts): a SELL
 * triggers when the low reaches the stop and fills at the stop, or at the open after a gap, as
 * taker; a gap below the limit leaves it triggered and resting at the limit, where it then fills
 * like any resting LIMIT (maker). Settlement sees the newest candle only: call it once a candle
 * at least.
 *
 * Every step of a placement is idempotent (see paper-books.ts), so a duplicate of the same
 * clientOrderId, concurrent or after a crash, finishes the one order instead of creating another.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Decimal } from "decimal.js";
import type { Fill, OrderStatus } from "#domain/schemas.js";
import type {
  Balance,
  BestBidAsk,
  CancelResult,
  Exchange,
  ExchangeOrder,
  PlaceOrderRequest,
  PlaceOrderResult,
  ProductRules,
  ProductRulesSource,
  SubmittedSizes,
} from "#exchange/exchange.js";
import {
  fixedPriceFill,
  type LimitFill,
  limitFill,
  limitFillPrice,
  marketFill,
  quoteOnGrid,
  stopLimitOutcome,
} from "#exchange/fill-model.js";
import {
  localRefusal,
  type Refusal,
  requestShapeProblem,
  stopVersusLastTrade,
} from "#exchange/order-request.js";

import type { PaperBookStore, PaperOrder, PaperOrderState, PlannedFill } from "./paper-book-store.js";
import { PaperBooks } from "./paper-books.js";
import type { PriceQuote, PriceSource } from "./price-source.js";

export interface PaperSettings {
  startingCashUsd: string | number;
  slippageBps: number;
  /** bps of market impact per 1% of the candle's base volume an order takes */
  impactCoefficient: number;
  maxImpactBps?: number;
  takerFeeBps: number;
  makerFeeBps: number;
}

/**
 * Where the books live: the portfolio table (`db`, `table`), as deployed, or any PaperBookStore
 * (`books`, e.g. MemoryPaperBooks for the backtester), whose starting cash must match the settings'.
 */
export type PaperExchangeDeps = PaperVenueDeps &
  (
    | { db: DynamoDBDocumentClient /** the portfolio table */; table: string; books?: undefined }
    | { books: PaperBookStore; db?: undefined; table?: undefined }
  );

interface PaperVenueDeps {
  prices: PriceSource;
  rules: ProductRulesSource;
  settings: PaperSettings;
  now(): Date;
  newId(): string;
}

export interface SettlementReport {
  productId: string;
  /** resting orders that filled in this pass */
  filled: string[];
  /** resting orders still waiting for the price */
  stillOpen: string[];
  quote?: PriceQuote;
}

/** Coinbase's answer to cancelling an order that is not open (unknown, filled or cancelled). */
export const CANCEL_NOT_OPEN = "UNKNOWN_CANCEL_ORDER";

const STATUS_OF: Record<PaperOrderState, OrderStatus> = {
  PENDING: "PENDING",
  OPEN: "OPEN",
  FILLING: "OPEN",
  CANCELLING: "OPEN",
  FILLED: "FILLED",
  CANCELLED: "CANCELLED",
};

export class PaperExchange implements Exchange {
  readonly venue = "paper" as const;
  private readonly books: PaperBookStore;

  constructor(private readonly deps: PaperExchangeDeps) {
    const s = deps.settings;
    for (const [name, value] of Object.entries({
      slippageBps: s.slippageBps,
      impactCoefficient: s.impactCoefficient,
      takerFeeBps: s.takerFeeBps,
      makerFeeBps: s.makerFeeBps,
    }))
      if (!Number.isFinite(value) || value < 0)
        throw new RangeError(`paper setting ${name} must be a finite number >= 0, got ${value}`);
    const startingCashUsd = new Decimal(s.startingCashUsd).toFixed();
    if (deps.books === undefined) this.books = new PaperBooks(deps.db, deps.table, startingCashUsd);
    else if (new Decimal(deps.books.startingCashUsd).eq(startingCashUsd)) this.books = deps.books;
    else
      throw new RangeError(
        `paper books open with ${deps.books.startingCashUsd} USD but the paper settings say ${startingCashUsd}: ` +
          "build the books with settings.startingCashUsd",
      );
  }

  getProductRules(productId: string): Promise<ProductRules> {
    return this.deps.rules.rulesFor(productId);
  }

  async getBalances(): Promise<Record<string, Balance>> {
    const out: Record<string, Balance> = {};
    for (const b of await this.books.balances()) out[b.currency] = { available: b.available, hold: b.hold };
    return out;
  }

  async getBestBidAsk(productId: string): Promise<BestBidAsk> {
    const [rules, quote] = await Promise.all([
      this.getProductRules(productId),
      this.deps.prices.quote(productId),
    ]);
    return {
      bid: quoteOnGrid(quote.bid, rules.priceIncrement, false),
      ask: quoteOnGrid(quote.ask, rules.priceIncrement, true),
      time: quote.time,
    };
  }

  async placeOrder(request: PlaceOrderRequest): Promise<PlaceOrderResult> {
    const shape = requestShapeProblem(request);
    if (shape) return { accepted: false, reason: "INVALID_ORDER_REQUEST", message: shape };
    const rules = await this.getProductRules(request.productId);
    const checked = localRefusal(request, rules);
    if ("refusal" in checked) return checked.refusal;
    const { submitted } = checked;

    const at = this.deps.now().toISOString();
    const orderId = await this.books.claimClientOrderId(request.clientOrderId, this.deps.newId(), at);
    const accepted: PlaceOrderResult = {
      accepted: true,
      orderId,
      clientOrderId: request.clientOrderId,
      submitted,
    };

    let order = await this.books.order(orderId);
    if (order && order.state !== "PENDING") return accepted;
    if (!order) {
      const draft = await this.draftOrder(request, submitted, rules, orderId, at);
      if ("accepted" in draft) {
        await this.books.releaseClaim(request.clientOrderId, orderId);
        return draft;
      }
      order = await this.books.createOrder(draft);
    }

    const refusal = order.type === "MARKET" ? await this.executeMarket(order) : await this.rest(order);
    if (refusal) {
      await this.books.deletePendingOrder(orderId);
      await this.books.releaseClaim(request.clientOrderId, orderId);
      return refusal;
    }
    // a marketable LIMIT fills at once; a STOP_LIMIT was checked to be away from the last price
    if (order.type === "LIMIT") await this.settle(order.productId, [orderId]);
    return accepted;
  }

  async getOrder(orderId: string): Promise<ExchangeOrder | undefined> {
    const order = await this.books.order(orderId);
    return order ? exchangeOrderOf(order) : undefined;
  }

  async findOrderByClientOrderId(clientOrderId: string): Promise<ExchangeOrder | undefined> {
    const orderId = await this.books.claimedOrderId(clientOrderId);
    return orderId ? this.getOrder(orderId) : undefined;
  }

  listFills(orderId: string): Promise<Fill[]> {
    return this.books.fills(orderId);
  }

  async cancelOrder(orderId: string): Promise<CancelResult> {
    const outcome = await this.cancel(orderId);
    const after = await this.books.order(orderId);
    return after ? { ...outcome, order: exchangeOrderOf(after) } : outcome;
  }

  private async cancel(orderId: string): Promise<CancelResult> {
    const order = await this.books.order(orderId);
    if (!order) return { cancelled: false, reason: CANCEL_NOT_OPEN };
    if (order.state === "OPEN") {
      const won = await this.books.transition(orderId, ["OPEN"], "CANCELLING", this.deps.now().toISOString());
      if (!won) return this.cancel(orderId);
      await this.finishCancel(order);
      return { cancelled: true };
    }
    if (order.state === "CANCELLING") {
      await this.finishCancel(order);
      return { cancelled: true };
    }
    if (order.state === "FILLING") await this.finishFill(order);
    return { cancelled: false, reason: CANCEL_NOT_OPEN };
  }

  /**
   * Fills every resting order of the product the current price has crossed (a LIMIT at its limit
   * price, maker fee; a STOP_LIMIT as the header says) and finishes any fill or cancel a crash left
   * half done. The portfolio function calls it each minute.
   */
  async settleRestingOrders(productId: string): Promise<SettlementReport> {
    return this.settle(productId, await this.books.restingOrderIds(productId));
  }

  // ----- placement ----------------------------------------------------------------------------

  private async draftOrder(
    request: PlaceOrderRequest,
    submitted: SubmittedSizes,
    rules: ProductRules,
    orderId: string,
    at: string,
  ): Promise<PaperOrder | Refusal> {
    const [base, quote] = splitProduct(request.productId);
    const order: PaperOrder = {
      orderId,
      clientOrderId: request.clientOrderId,
      productId: request.productId,
      side: request.side,
      type: request.type,
      state: "PENDING",
      ...submitted,
      createdAt: at,
      updatedAt: at,
    };
    if (request.type === "LIMIT" || request.type === "STOP_LIMIT") {
      const s = this.deps.settings;
      if (request.type === "STOP_LIMIT") {
        const { last } = await this.deps.prices.quote(request.productId);
        const early = stopVersusLastTrade(request, submitted.stopPrice!, last);
        if (early) return early;
      }
      // a stop may fill as taker when it triggers: a BUY holds enough for the dearer fee
      const cost = fixedPriceFill({
        side: request.side,
        baseSize: submitted.baseSize!,
        price: submitted.limitPrice!,
        feeBps: request.type === "STOP_LIMIT" ? Math.max(s.makerFeeBps, s.takerFeeBps) : s.makerFeeBps,
      });
      order.hold =
        request.side === "BUY"
          ? { currency: quote, amount: cost.totalQuote }
          : { currency: base, amount: cost.baseSize };
      return order;
    }
    const price = await this.deps.prices.quote(request.productId);
    const s = this.deps.settings;
    const fill = marketFill({
      side: request.side,
      ...(submitted.quoteSize !== undefined ? { quoteSize: submitted.quoteSize } : {}),
      ...(submitted.baseSize !== undefined ? { baseSize: submitted.baseSize } : {}),
      referencePrice: request.side === "BUY" ? price.ask : price.bid,
      ...(price.candleVolumeBase !== undefined ? { candleVolumeBase: price.candleVolumeBase } : {}),
      slippageBps: s.slippageBps,
      impactCoefficient: s.impactCoefficient,
      ...(s.maxImpactBps !== undefined ? { maxImpactBps: s.maxImpactBps } : {}),
      takerFeeBps: s.takerFeeBps,
      rules,
    });
    if (new Decimal(fill.baseSize).lte(0))
      return {
        accepted: false,
        reason: "SIZE_NOT_POSITIVE",
        message:
          `${request.clientOrderId}: ${request.side} ${request.productId} for ${submitted.quoteSize} ${quote} ` +
          `buys less than one base_increment (${rules.baseIncrement}) at ${fill.averagePrice}; raise quoteSize`,
      };
    order.fill = {
      price: fill.averagePrice,
      baseSize: fill.baseSize,
      quoteValue: fill.quoteValue,
      fee: fill.fee,
      totalQuote: fill.totalQuote,
      liquidity: "TAKER",
      tradeTime: at,
    };
    return order;
  }

  /** Moves the money of a priced MARKET order; a refusal when the account cannot pay. */
  private async executeMarket(order: PaperOrder): Promise<Refusal | undefined> {
    const fill = order.fill!;
    const [base, quote] = splitProduct(order.productId);
    if (order.side === "BUY") {
      // like the live venue's check: a BUY by quote needs its whole quote size available
      const required = Decimal.max(order.quoteSize ?? 0, fill.totalQuote);
      const paid = await this.books.applyBalanceChange({
        currency: quote,
        opId: `${order.orderId}#pay`,
        availableDelta: new Decimal(fill.totalQuote).neg(),
        requireAvailable: required,
      });
      if (paid.kind === "insufficient") return insufficient(order, required.toFixed(), quote, paid.available);
      await this.books.applyBalanceChange({
        currency: base,
        opId: `${order.orderId}#receive`,
        availableDelta: fill.baseSize,
      });
    } else {
      const paid = await this.books.applyBalanceChange({
        currency: base,
        opId: `${order.orderId}#pay`,
        availableDelta: new Decimal(fill.baseSize).neg(),
        requireAvailable: fill.baseSize,
      });
      if (paid.kind === "insufficient") return insufficient(order, fill.baseSize, base, paid.available);
      await this.books.applyBalanceChange({
        currency: quote,
        opId: `${order.orderId}#receive`,
        availableDelta: fill.totalQuote,
      });
    }
    await this.books.putFill(fillOf(order, fill));
    await this.books.transition(order.orderId, ["PENDING"], "FILLED", this.deps.now().toISOString());
    return undefined;
  }

  /** Puts a LIMIT order's funds on hold and makes it rest. */
  private async rest(order: PaperOrder): Promise<Refusal | undefined> {
    const hold = order.hold!;
    const held = await this.books.applyBalanceChange({
      currency: hold.currency,
      opId: `${order.orderId}#hold`,
      availableDelta: new Decimal(hold.amount).neg(),
      holdDelta: hold.amount,
      requireAvailable: hold.amount,
    });
    if (held.kind === "insufficient") return insufficient(order, hold.amount, hold.currency, held.available);
    await this.books.markResting(order.productId, order.orderId);
    await this.books.transition(order.orderId, ["PENDING"], "OPEN", this.deps.now().toISOString());
    return undefined;
  }

  // ----- resting orders -----------------------------------------------------------------------

  private async settle(productId: string, orderIds: readonly string[]): Promise<SettlementReport> {
    const report: SettlementReport = { productId, filled: [], stillOpen: [] };
    if (orderIds.length === 0) return report;
    let quote: PriceQuote | undefined;
    let priceIncrement: string | undefined;
    for (const orderId of orderIds) {
      const order = await this.books.order(orderId);
      if (!order) continue;
      if (order.state === "CANCELLING") {
        await this.finishCancel(order);
        continue;
      }
      if (order.state === "FILLING") {
        await this.finishFill(order);
        report.filled.push(orderId);
        continue;
      }
      if (order.state !== "OPEN") {
        await this.books.unmarkResting(order.productId, orderId);
        continue;
      }
      quote ??= await this.deps.prices.quote(productId);
      report.quote = quote;
      const at = this.deps.now().toISOString();
      let fill: PlannedFill | undefined;
      if (order.type === "STOP_LIMIT" && order.triggeredAt === undefined) {
        priceIncrement ??= (await this.getProductRules(productId)).priceIncrement;
        const outcome = stopLimitOutcome(
          { side: order.side, stopPrice: order.stopPrice!, limitPrice: order.limitPrice! },
          marketSince(order, quote),
          priceIncrement,
        );
        if (!outcome.triggered) {
          report.stillOpen.push(orderId);
          continue;
        }
        if (outcome.fillPrice !== undefined) {
          const cost = fixedPriceFill({
            side: order.side,
            baseSize: order.baseSize!,
            price: outcome.fillPrice,
            feeBps: this.deps.settings.takerFeeBps,
          });
          fill = plannedFill(cost, "TAKER", at);
        } else {
          // gapped through the limit: from now on it is a limit order resting at its limit
          await this.books.markTriggered(orderId, at);
        }
      }
      if (!fill) {
        // the best ask is the cheapest anyone sells at now, the best bid the dearest anyone buys at
        const price = limitFillPrice({
          side: order.side,
          limitPrice: order.limitPrice!,
          low: quote.ask,
          high: quote.bid,
        });
        if (price === undefined) {
          report.stillOpen.push(orderId);
          continue;
        }
        const cost = limitFill({
          side: order.side,
          baseSize: order.baseSize!,
          limitPrice: price,
          makerFeeBps: this.deps.settings.makerFeeBps,
        });
        fill = plannedFill(cost, "MAKER", at);
      }
      if (await this.books.transition(orderId, ["OPEN"], "FILLING", at, fill)) {
        await this.finishFill({ ...order, state: "FILLING", fill });
        report.filled.push(orderId);
      } else {
        const now = await this.books.order(orderId);
        if (now?.state === "FILLING") {
          await this.finishFill(now);
          report.filled.push(orderId);
        } else if (now?.state === "CANCELLING") await this.finishCancel(now);
      }
    }
    return report;
  }

  private async finishFill(order: PaperOrder): Promise<void> {
    const fill = order.fill!;
    const hold = order.hold!;
    const [base, quote] = splitProduct(order.productId);
    // the hold is released in the same write that books the cost, so funds are never counted twice
    if (order.side === "BUY") {
      await this.books.applyBalanceChange({
        currency: hold.currency,
        opId: `${order.orderId}#settle-pay`,
        holdDelta: new Decimal(hold.amount).neg(),
        availableDelta: new Decimal(hold.amount).minus(fill.totalQuote),
      });
      await this.books.applyBalanceChange({
        currency: base,
        opId: `${order.orderId}#settle-receive`,
        availableDelta: fill.baseSize,
      });
    } else {
      await this.books.applyBalanceChange({
        currency: hold.currency,
        opId: `${order.orderId}#settle-pay`,
        holdDelta: new Decimal(hold.amount).neg(),
        availableDelta: new Decimal(hold.amount).minus(fill.baseSize),
      });
      await this.books.applyBalanceChange({
        currency: quote,
        opId: `${order.orderId}#settle-receive`,
        availableDelta: fill.totalQuote,
      });
    }
    await this.books.putFill(fillOf(order, fill));
    await this.books.transition(order.orderId, ["FILLING"], "FILLED", this.deps.now().toISOString());
    await this.books.unmarkResting(order.productId, order.orderId);
  }

  private async finishCancel(order: PaperOrder): Promise<void> {
    const hold = order.hold!;
    await this.books.applyBalanceChange({
      currency: hold.currency,
      opId: `${order.orderId}#release`,
      holdDelta: new Decimal(hold.amount).neg(),
      availableDelta: hold.amount,
    });
    await this.books.transition(order.orderId, ["CANCELLING"], "CANCELLED", this.deps.now().toISOString());
    await this.books.unmarkResting(order.productId, order.orderId);
  }
}

function plannedFill(cost: LimitFill, liquidity: PlannedFill["liquidity"], at: string): PlannedFill {
  return {
    price: cost.averagePrice,
    baseSize: cost.baseSize,
    quoteValue: cost.quoteValue,
    fee: cost.fee,
    totalQuote: cost.totalQuote,
    liquidity,
    tradeTime: at,
  };
}

/**
 * What a resting stop saw of the market: the quote's candle when it closed after the stop was
 * placed (part of its range may predate the stop: the venue cannot tell when in the candle the low
 * came, and counting it is the cautious side for a protective stop), else the last price alone.
 */
function marketSince(order: PaperOrder, quote: PriceQuote): { open: number; high: number; low: number } {
  const { open, high, low } = quote;
  if (
    open !== undefined &&
    high !== undefined &&
    low !== undefined &&
    Date.parse(quote.time) > Date.parse(order.createdAt)
  )
    return { open, high, low };
  return { open: quote.last, high: quote.last, low: quote.last };
}

function splitProduct(productId: string): [base: string, quote: string] {
  const [base, quote] = productId.split("-");
  if (!base || !quote)
    throw new RangeError(`product id must be BASE-QUOTE such as BTC-USD, got ${productId}`);
  return [base, quote];
}

function insufficient(order: PaperOrder, required: string, currency: string, available: string): Refusal {
  return {
    accepted: false,
    reason: "INSUFFICIENT_FUND",
    message: `${order.clientOrderId}: ${order.side} ${order.productId} needs ${required} ${currency}, available ${available}`,
  };
}

function fillOf(order: PaperOrder, fill: PlannedFill): Fill {
  return {
    tradeId: `${order.orderId}-1`,
    orderId: order.orderId,
    clientOrderId: order.clientOrderId,
    symbol: order.productId,
    side: order.side,
    price: fill.price,
    size: fill.baseSize,
    commission: fill.fee,
    liquidity: fill.liquidity,
    tradeTime: fill.tradeTime,
  };
}

export function exchangeOrderOf(order: PaperOrder): ExchangeOrder {
  const filled = order.state === "FILLED" && order.fill;
  const terms = {
    ...(order.baseSize !== undefined ? { baseSize: order.baseSize } : {}),
    ...(order.limitPrice !== undefined ? { limitPrice: order.limitPrice } : {}),
    ...(order.type === "STOP_LIMIT"
      ? {
          ...(order.stopPrice !== undefined ? { stopPrice: order.stopPrice } : {}),
          // a stop carries a planned fill only once it triggered and filled
          triggered: order.triggeredAt !== undefined || order.fill !== undefined,
        }
      : {}),
  };
  return {
    orderId: order.orderId,
    clientOrderId: order.clientOrderId,
    productId: order.productId,
    side: order.side,
    type: order.type,
    status: STATUS_OF[order.state],
    venueStatus: order.state,
    filledSize: filled ? order.fill!.baseSize : "0",
    averageFilledPrice: filled ? order.fill!.price : "0",
    filledValue: filled ? order.fill!.quoteValue : "0",
    totalFees: filled ? order.fill!.fee : "0",
    completionPercentage: filled ? "100" : "0",
    createdAt: order.createdAt,
    ...terms,
  };
}
