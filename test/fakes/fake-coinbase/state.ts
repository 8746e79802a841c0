/**
 * The fake Coinbase's books: products with a bid/ask, balances, orders, fills. Order handling
 * follows protocols A.5: rejections are HTTP 200 success:false, client_order_id replays return
 * the original success body, market orders fill at the ask/bid, limit GTC orders rest until the
 * price crosses.
 *
 * Stop-limit GTC orders (stop_limit_stop_limit_gtc) hold their funds like a resting limit (a SELL
 * holds the base, so selling it again fails INSUFFICIENT_FUND) and wait for the last trade price
 * (here: the mid of the book setPrice sets) to reach the stop in the stop direction: STOP_DOWN at
 * or below, STOP_UP at or above. Then the order is a limit order: it takes the book at once when
 * the bid (SELL) or ask (BUY) is at or through its limit (taker, at the book's price), otherwise
 * it stays OPEN, triggered, and fills later at its limit like any resting limit (maker). Placing a
 * stop the last trade price has already reached is refused, as Coinbase's preview does.
 */
import { randomUUID } from "node:crypto";
import { Decimal } from "decimal.js";
import { type FakeProductInput, productWire } from "./catalogue.js";

export interface FakeOrder {
  order_id: string;
  client_order_id: string;
  product_id: string;
  side: "BUY" | "SELL";
  kind: OrderKind;
  order_configuration: Record<string, unknown>;
  /** requested base size, or undefined for market-by-quote */
  baseSize?: Decimal;
  quoteSize?: Decimal;
  limitPrice?: Decimal;
  stopPrice?: Decimal;
  stopDirection?: StopDirectionWire;
  /** STOP_LIMIT: the last trade price reached the stop */
  triggered: boolean;
  /** a cancel was accepted but lands only after this many more reads of the order */
  cancelAfterReads?: number;
  status: "OPEN" | "FILLED" | "CANCELLED";
  created_time: string;
  filledSize: Decimal;
  filledValue: Decimal;
  fees: Decimal;
  /** quote (BUY) or base (SELL) reserved by this resting order */
  hold: Decimal;
  /** fraction still to be filled for a partially filled market order */
  pendingFraction: Decimal;
  lastFillTime?: string;
}

export interface FakeFill {
  entry_id: string;
  trade_id: string;
  order_id: string;
  trade_time: string;
  trade_type: "FILL";
  price: string;
  size: string;
  commission: string;
  product_id: string;
  sequence_timestamp: string;
  liquidity_indicator: "MAKER" | "TAKER";
  size_in_quote: false;
  user_id: string;
  side: "BUY" | "SELL";
  retail_portfolio_id: string;
}

export interface OrderRejection {
  error: string;
  message: string;
  preview_failure_reason: string;
  new_order_failure_reason: string;
}

export type OrderKind = "MARKET" | "LIMIT" | "STOP_LIMIT";
export type StopDirectionWire = "STOP_DIRECTION_STOP_UP" | "STOP_DIRECTION_STOP_DOWN";

export interface ParsedOrder {
  product_id: string;
  side: "BUY" | "SELL";
  order_configuration: Record<string, unknown>;
  kind: OrderKind;
  baseSize?: Decimal;
  quoteSize?: Decimal;
  limitPrice?: Decimal;
  stopPrice?: Decimal;
  stopDirection?: StopDirectionWire;
  postOnly: boolean;
}

interface Book {
  wire: Record<string, unknown>;
  bid: Decimal;
  ask: Decimal;
  /** the last trade price stops trigger on: the mid of bid and ask */
  last: Decimal;
}

const USER_ID = "fake-user-1";
const PORTFOLIO_ID = "11111111-1111-1111-1111-111111111111";

function rejection(code: string, message: string, preview = `PREVIEW_${code}`): OrderRejection {
  return { error: code, message, preview_failure_reason: preview, new_order_failure_reason: code };
}

export class FakeCoinbaseState {
  readonly books = new Map<string, Book>();
  readonly balances = new Map<string, { available: Decimal; hold: Decimal }>();
  readonly orders = new Map<string, FakeOrder>();
  readonly fills: FakeFill[] = [];
  /** the success body first returned for each client_order_id, replayed verbatim */
  readonly successBodies = new Map<string, Record<string, unknown>>();
  private readonly created = new Map<string, number>();
  private readonly createRequests = new Map<string, number>();
  readonly takerFeeRate: Decimal;
  readonly makerFeeRate: Decimal;
  private tradeSeq = 0;

  constructor(
    products: readonly FakeProductInput[],
    balances: Record<string, string>,
    fees: { taker: string; maker: string },
    private readonly nowMs: () => number,
  ) {
    this.takerFeeRate = new Decimal(fees.taker);
    this.makerFeeRate = new Decimal(fees.maker);
    for (const p of products) this.addProduct(p);
    for (const [currency, amount] of Object.entries(balances)) this.setBalance(currency, amount);
  }

  addProduct(input: FakeProductInput): void {
    const mid = new Decimal(input.price);
    const half = new Decimal(input.spread ?? mid.mul("0.0001").toString()).div(2);
    const inc = new Decimal(input.quoteIncrement ?? "0.01");
    this.books.set(input.productId, {
      wire: productWire(input),
      bid: mid.minus(half).div(inc).floor().mul(inc),
      ask: mid.plus(half).div(inc).ceil().mul(inc),
      last: mid,
    });
  }

  product(productId: string): Record<string, unknown> | undefined {
    return this.books.get(productId)?.wire;
  }

  setBalance(currency: string, available: string): void {
    const hold = this.balances.get(currency)?.hold ?? new Decimal(0);
    this.balances.set(currency, { available: new Decimal(available), hold });
  }

  balance(currency: string): { available: string; hold: string } {
    const b = this.balances.get(currency);
    return {
      available: (b?.available ?? new Decimal(0)).toString(),
      hold: (b?.hold ?? new Decimal(0)).toString(),
    };
  }

  /**
   * Move the market (the test's control of the price): the last trade price becomes the mid.
   * Resting limit orders (and stops triggered earlier) that now cross fill at their limit price as
   * maker; stops whose stop price the last trade reached trigger, and take the book at once when
   * it is at or through their limit.
   */
  setPrice(productId: string, bid: string, ask?: string): void {
    const book = this.requireBook(productId);
    book.bid = new Decimal(bid);
    book.ask = new Decimal(ask ?? bid);
    book.last = book.bid.plus(book.ask).div(2);
    book.wire.price = book.last.toString();
    for (const order of this.orders.values()) {
      if (order.product_id !== productId || order.status !== "OPEN" || order.kind === "MARKET") continue;
      const crosses =
        order.side === "BUY" ? book.ask.lte(order.limitPrice!) : book.bid.gte(order.limitPrice!);
      if (order.kind === "STOP_LIMIT" && !order.triggered) {
        const reached =
          order.stopDirection === "STOP_DIRECTION_STOP_DOWN"
            ? book.last.lte(order.stopPrice!)
            : book.last.gte(order.stopPrice!);
        if (!reached) continue;
        order.triggered = true;
        if (crosses) this.fillLimit(order, order.side === "BUY" ? book.ask : book.bid, "TAKER");
        continue;
      }
      if (crosses) this.fillLimit(order, order.limitPrice!, "MAKER");
    }
  }

  bestBidAsk(productId: string): { bid: string; ask: string } {
    const book = this.requireBook(productId);
    return { bid: book.bid.toString(), ask: book.ask.toString() };
  }

  /** How many orders were actually created for this client_order_id (replays create none). */
  ordersCreatedFor(clientOrderId: string): number {
    return this.created.get(clientOrderId) ?? 0;
  }

  /** How many POST /orders requests carried this client_order_id (replays included). */
  createRequestsFor(clientOrderId: string): number {
    return this.createRequests.get(clientOrderId) ?? 0;
  }

  noteCreateRequest(clientOrderId: string): void {
    this.createRequests.set(clientOrderId, (this.createRequests.get(clientOrderId) ?? 0) + 1);
  }

  /**
   * Checks an order against the product and the balances. Returns the reason Coinbase would give,
   * or undefined when it would be accepted.
   */
  check(order: ParsedOrder): OrderRejection | undefined {
    const book = this.books.get(order.product_id);
    if (!book)
      return rejection(
        "UNKNOWN_FAILURE_REASON",
        `Product ${order.product_id} not supported`,
        "PREVIEW_INVALID_PRODUCT_ID",
      );
    const w = book.wire;
    if (w.status !== "online" || w.trading_disabled || w.is_disabled || w.cancel_only || w.view_only)
      return rejection(
        "UNKNOWN_FAILURE_REASON",
        `${order.product_id} is not accepting orders`,
        "PREVIEW_TRADING_DISABLED",
      );
    if (order.kind === "MARKET" && w.limit_only)
      return rejection("UNSUPPORTED_ORDER_CONFIGURATION", "market orders are disabled (limit only)");
    const baseInc = new Decimal(w.base_increment as string);
    const quoteInc = new Decimal(w.quote_increment as string);
    const priceInc = new Decimal((w.price_increment as string) || (w.quote_increment as string));
    if (order.baseSize) {
      if (order.baseSize.lte(0)) return rejection("INVALID_SIZE_PRECISION", "base_size must be positive");
      if (!order.baseSize.mod(baseInc).isZero())
        return rejection(
          "INVALID_SIZE_PRECISION",
          `base_size ${order.baseSize} is not a multiple of ${baseInc}`,
        );
      if (order.baseSize.lt(w.base_min_size as string))
        return rejection("INVALID_BASE_SIZE_TOO_SMALL", `base_size below ${w.base_min_size}`);
      if (order.baseSize.gt(w.base_max_size as string))
        return rejection("INVALID_BASE_SIZE_TOO_LARGE", `base_size above ${w.base_max_size}`);
    }
    if (order.quoteSize) {
      if (!order.quoteSize.mod(quoteInc).isZero())
        return rejection(
          "INVALID_SIZE_PRECISION",
          `quote_size ${order.quoteSize} is not a multiple of ${quoteInc}`,
          "PREVIEW_INVALID_QUOTE_SIZE_PRECISION",
        );
    }
    if (order.limitPrice) {
      if (order.limitPrice.lte(0) || !order.limitPrice.mod(priceInc).isZero())
        return rejection(
          "INVALID_PRICE_PRECISION",
          `limit_price ${order.limitPrice} is not a multiple of ${priceInc}`,
        );
    }
    if (order.kind === "STOP_LIMIT") {
      const problem = this.stopProblem(order, book, priceInc);
      if (problem) return problem;
    }
    const notional =
      order.quoteSize ??
      order.baseSize!.mul(order.limitPrice ?? (order.side === "BUY" ? book.ask : book.bid));
    if (notional.lt(w.quote_min_size as string))
      return rejection(
        "INVALID_QUOTE_SIZE_TOO_SMALL",
        `order value below quote_min_size ${w.quote_min_size}`,
      );
    if (notional.gt(w.quote_max_size as string))
      return rejection(
        "INVALID_QUOTE_SIZE_TOO_LARGE",
        `order value above quote_max_size ${w.quote_max_size}`,
      );
    if (order.kind === "LIMIT" && order.postOnly) {
      const wouldTake =
        order.side === "BUY" ? book.ask.lte(order.limitPrice!) : book.bid.gte(order.limitPrice!);
      if (wouldTake)
        return rejection("INVALID_LIMIT_PRICE_POST_ONLY", "post-only order would take liquidity");
    }
    const [base, quote] = order.product_id.split("-") as [string, string];
    if (order.side === "BUY") {
      const needed = order.quoteSize ?? notional.mul(this.takerFeeRate.plus(1));
      if (this.available(quote).lt(needed))
        return rejection("INSUFFICIENT_FUND", "Insufficient balance in source account");
    } else {
      const needed = order.baseSize ?? order.quoteSize!.div(book.bid);
      if (this.available(base).lt(needed))
        return rejection("INSUFFICIENT_FUND", "Insufficient balance in source account");
    }
    return undefined;
  }

  /** Coinbase's preview reasons for a stop-limit: stop off the grid, already reached, or limit on the wrong side. */
  private stopProblem(order: ParsedOrder, book: Book, priceInc: Decimal): OrderRejection | undefined {
    const stop = order.stopPrice!;
    const limit = order.limitPrice!;
    if (stop.lte(0) || !stop.mod(priceInc).isZero())
      return rejection(
        "INVALID_PRICE_PRECISION",
        `stop_price ${stop} is not a multiple of ${priceInc}`,
        "PREVIEW_INVALID_STOP_PRICE_PRECISION",
      );
    const down = order.stopDirection === "STOP_DIRECTION_STOP_DOWN";
    if (down && stop.gte(book.last))
      return rejection(
        "UNKNOWN_FAILURE_REASON",
        `stop_price ${stop} is not below the last trade price ${book.last}`,
        "PREVIEW_STOP_PRICE_ABOVE_LAST_TRADE_PRICE",
      );
    if (!down && stop.lte(book.last))
      return rejection(
        "UNKNOWN_FAILURE_REASON",
        `stop_price ${stop} is not above the last trade price ${book.last}`,
        "PREVIEW_STOP_PRICE_BELOW_LAST_TRADE_PRICE",
      );
    if (down && limit.gt(stop))
      return rejection(
        "UNKNOWN_FAILURE_REASON",
        "Limit price must be at or below the stop price",
        "PREVIEW_STOP_PRICE_BELOW_LIMIT_PRICE",
      );
    if (!down && limit.lt(stop))
      return rejection(
        "UNKNOWN_FAILURE_REASON",
        "Limit price must be at or above the stop price",
        "PREVIEW_STOP_PRICE_ABOVE_LIMIT_PRICE",
      );
    return undefined;
  }

  preview(order: ParsedOrder): Record<string, unknown> {
    const book = this.requireBookOrUndefined(order.product_id);
    const problem = this.check(order);
    const price = order.limitPrice ?? (order.side === "BUY" ? book?.ask : book?.bid) ?? new Decimal(0);
    let quoteSize: Decimal;
    let baseSize: Decimal;
    if (order.quoteSize) {
      quoteSize = order.quoteSize;
      baseSize = price.isZero() ? new Decimal(0) : order.quoteSize.div(this.takerFeeRate.plus(1)).div(price);
    } else {
      baseSize = order.baseSize!;
      quoteSize = baseSize.mul(price);
    }
    const commission = order.quoteSize
      ? quoteSize.minus(quoteSize.div(this.takerFeeRate.plus(1)))
      : quoteSize.mul(this.takerFeeRate);
    return {
      order_total: (order.quoteSize ? quoteSize : quoteSize.plus(commission)).toFixed(2),
      commission_total: commission.toFixed(2),
      errs: problem ? [problem.preview_failure_reason] : [],
      warning: [],
      quote_size: quoteSize.toFixed(2),
      base_size: baseSize.toFixed(8),
      best_bid: book?.bid.toString() ?? "",
      best_ask: book?.ask.toString() ?? "",
      is_max: false,
      slippage: "0",
      preview_id: randomUUID(),
    };
  }

  /** Creates and (for market orders) fills an order that `check` accepted. */
  create(clientOrderId: string, order: ParsedOrder, fillFraction: Decimal): FakeOrder {
    const now = new Date(this.nowMs()).toISOString();
    const record: FakeOrder = {
      order_id: randomUUID(),
      client_order_id: clientOrderId,
      product_id: order.product_id,
      side: order.side,
      kind: order.kind,
      order_configuration: order.order_configuration,
      baseSize: order.baseSize,
      quoteSize: order.quoteSize,
      limitPrice: order.limitPrice,
      stopPrice: order.stopPrice,
      stopDirection: order.stopDirection,
      triggered: false,
      status: "OPEN",
      created_time: now,
      filledSize: new Decimal(0),
      filledValue: new Decimal(0),
      fees: new Decimal(0),
      hold: new Decimal(0),
      pendingFraction: new Decimal(0),
    };
    this.orders.set(record.order_id, record);
    this.created.set(clientOrderId, (this.created.get(clientOrderId) ?? 0) + 1);
    const book = this.requireBook(order.product_id);
    if (order.kind === "MARKET") {
      this.fillMarket(record, fillFraction);
      record.pendingFraction = new Decimal(1).minus(fillFraction);
      if (record.pendingFraction.lte(0)) record.status = "FILLED";
    } else if (order.kind === "STOP_LIMIT") {
      // check() refused a stop the last trade already reached: it waits for setPrice
      this.holdFor(record);
    } else {
      const crosses =
        order.side === "BUY" ? book.ask.lte(order.limitPrice!) : book.bid.gte(order.limitPrice!);
      if (crosses) this.fillLimit(record, order.side === "BUY" ? book.ask : book.bid, "TAKER");
      else this.holdFor(record);
    }
    return record;
  }

  /** Fills the remainder of partially filled market orders at the current price. */
  completePartialFills(): number {
    let completed = 0;
    for (const order of this.orders.values()) {
      if (order.status !== "OPEN" || order.kind !== "MARKET" || order.pendingFraction.lte(0)) continue;
      this.fillMarket(order, order.pendingFraction);
      order.pendingFraction = new Decimal(0);
      order.status = "FILLED";
      completed++;
    }
    return completed;
  }

  /**
   * A cancel request. With `afterReads` the request is accepted but lands only after that many
   * more reads of the order (it stays OPEN with pending_cancel meanwhile, and can still fill), as
   * a cancel that is "a request" (protocols A.5) does.
   */
  cancel(orderId: string, afterReads = 0): { success: boolean; failure_reason: string } {
    const order = this.orders.get(orderId);
    if (order?.status !== "OPEN") return { success: false, failure_reason: "UNKNOWN_CANCEL_ORDER" };
    if (afterReads > 0) order.cancelAfterReads = afterReads;
    else this.finishCancel(order);
    return { success: true, failure_reason: "UNKNOWN_CANCEL_FAILURE_REASON" };
  }

  /** Called on each GET of the order: a pending cancel lands after its reads. */
  noteOrderRead(order: FakeOrder): void {
    if (order.cancelAfterReads === undefined) return;
    if (order.status !== "OPEN") {
      order.cancelAfterReads = undefined;
      return;
    }
    order.cancelAfterReads--;
    if (order.cancelAfterReads <= 0) this.finishCancel(order);
  }

  private finishCancel(order: FakeOrder): void {
    this.releaseHold(order);
    order.status = "CANCELLED";
    order.cancelAfterReads = undefined;
    order.pendingFraction = new Decimal(0);
  }

  orderWire(order: FakeOrder): Record<string, unknown> {
    const requested =
      order.kind === "MARKET" && order.quoteSize ? order.quoteSize : (order.baseSize ?? new Decimal(0));
    const done =
      order.kind === "MARKET" && order.quoteSize ? order.filledValue.plus(order.fees) : order.filledSize;
    const completion =
      order.status === "FILLED"
        ? new Decimal(100)
        : requested.isZero()
          ? new Decimal(0)
          : done.div(requested).mul(100);
    const fills = this.fills.filter((f) => f.order_id === order.order_id).length;
    return {
      order_id: order.order_id,
      product_id: order.product_id,
      user_id: USER_ID,
      order_configuration: order.order_configuration,
      side: order.side,
      client_order_id: order.client_order_id,
      status: order.status,
      time_in_force: order.kind === "MARKET" ? "IMMEDIATE_OR_CANCEL" : "GOOD_UNTIL_CANCELLED",
      created_time: order.created_time,
      completion_percentage: completion.toDecimalPlaces(2).toString(),
      filled_size: order.filledSize.toString(),
      average_filled_price: order.filledSize.isZero()
        ? "0"
        : order.filledValue.div(order.filledSize).toDecimalPlaces(8).toString(),
      fee: "",
      number_of_fills: String(fills),
      filled_value: order.filledValue.toString(),
      pending_cancel: order.cancelAfterReads !== undefined,
      size_in_quote: order.quoteSize !== undefined,
      total_fees: order.fees.toString(),
      size_inclusive_of_fees: order.quoteSize !== undefined,
      total_value_after_fees:
        order.side === "BUY"
          ? order.filledValue.plus(order.fees).toString()
          : order.filledValue.minus(order.fees).toString(),
      trigger_status:
        order.kind !== "STOP_LIMIT"
          ? "INVALID_ORDER_TYPE"
          : order.triggered
            ? "STOP_TRIGGERED"
            : "STOP_PENDING",
      order_type: order.kind,
      reject_reason: "REJECT_REASON_UNSPECIFIED",
      settled: order.status === "FILLED",
      product_type: "SPOT",
      reject_message: "",
      cancel_message: order.status === "CANCELLED" ? "User requested cancel" : "",
      order_placement_source: "RETAIL_ADVANCED",
      outstanding_hold_amount: order.hold.toString(),
      is_liquidation: false,
      last_fill_time: order.lastFillTime ?? null,
    };
  }

  private fillMarket(order: FakeOrder, fraction: Decimal): void {
    const book = this.requireBook(order.product_id);
    const baseInc = new Decimal(book.wire.base_increment as string);
    const price = order.side === "BUY" ? book.ask : book.bid;
    let size: Decimal;
    if (order.quoteSize) {
      // quote_size includes the fee (size_inclusive_of_fees), so the base bought is what the rest buys
      const spend = order.quoteSize.mul(fraction);
      size = order.side === "BUY" ? spend.div(this.takerFeeRate.plus(1)).div(price) : spend.div(price);
    } else {
      size = order.baseSize!.mul(fraction);
    }
    size = size.div(baseInc).floor().mul(baseInc);
    if (size.lte(0)) return;
    this.recordFill(order, price, size, "TAKER");
  }

  private fillLimit(order: FakeOrder, price: Decimal, liquidity: "MAKER" | "TAKER"): void {
    this.releaseHold(order);
    const remaining = order.baseSize!.minus(order.filledSize);
    if (remaining.gt(0)) this.recordFill(order, price, remaining, liquidity);
    order.status = "FILLED";
  }

  private recordFill(order: FakeOrder, price: Decimal, size: Decimal, liquidity: "MAKER" | "TAKER"): void {
    const [base, quote] = order.product_id.split("-") as [string, string];
    const value = price.mul(size);
    const commission = value
      .mul(liquidity === "MAKER" ? this.makerFeeRate : this.takerFeeRate)
      .toDecimalPlaces(8);
    if (order.side === "BUY") {
      this.adjust(quote, value.plus(commission).neg());
      this.adjust(base, size);
    } else {
      this.adjust(base, size.neg());
      this.adjust(quote, value.minus(commission));
    }
    order.filledSize = order.filledSize.plus(size);
    order.filledValue = order.filledValue.plus(value);
    order.fees = order.fees.plus(commission);
    const now = new Date(this.nowMs()).toISOString();
    order.lastFillTime = now;
    this.tradeSeq++;
    this.fills.push({
      entry_id: `entry-${this.tradeSeq}`,
      trade_id: `trade-${this.tradeSeq}`,
      order_id: order.order_id,
      trade_time: now,
      trade_type: "FILL",
      price: price.toString(),
      size: size.toString(),
      commission: commission.toString(),
      product_id: order.product_id,
      sequence_timestamp: now,
      liquidity_indicator: liquidity,
      size_in_quote: false,
      user_id: USER_ID,
      side: order.side,
      retail_portfolio_id: PORTFOLIO_ID,
    });
  }

  private holdFor(order: FakeOrder): void {
    const [base, quote] = order.product_id.split("-") as [string, string];
    const currency = order.side === "BUY" ? quote : base;
    const amount =
      order.side === "BUY"
        ? order.baseSize!.mul(order.limitPrice!).mul(this.takerFeeRate.plus(1))
        : order.baseSize!;
    const b = this.ensure(currency);
    b.available = b.available.minus(amount);
    b.hold = b.hold.plus(amount);
    order.hold = amount;
  }

  private releaseHold(order: FakeOrder): void {
    if (order.hold.isZero()) return;
    const [base, quote] = order.product_id.split("-") as [string, string];
    const b = this.ensure(order.side === "BUY" ? quote : base);
    b.available = b.available.plus(order.hold);
    b.hold = b.hold.minus(order.hold);
    order.hold = new Decimal(0);
  }

  private available(currency: string): Decimal {
    return this.balances.get(currency)?.available ?? new Decimal(0);
  }

  private adjust(currency: string, delta: Decimal): void {
    const b = this.ensure(currency);
    b.available = b.available.plus(delta);
  }

  private ensure(currency: string): { available: Decimal; hold: Decimal } {
    let b = this.balances.get(currency);
    if (!b) {
      b = { available: new Decimal(0), hold: new Decimal(0) };
      this.balances.set(currency, b);
    }
    return b;
  }

  private requireBook(productId: string): Book {
    const book = this.books.get(productId);
    if (!book) throw new Error(`fake Coinbase has no product ${productId}`);
    return book;
  }

  private requireBookOrUndefined(productId: string): Book | undefined {
    return this.books.get(productId);
  }
}
