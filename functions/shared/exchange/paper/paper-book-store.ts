/**
 * The paper exchange's books as a port: what PaperExchange needs from them, with no storage in
 * sight. PaperBooks (paper-books.ts) keeps them in the portfolio table; MemoryPaperBooks
 * (memory-paper-books.ts) in memory, for the backtester. Both follow the rules said here, so a
 * replayed step never moves money twice and a clientOrderId makes one order.
 */
import { Decimal } from "decimal.js";
import { z } from "zod";
import { type Fill, OrderType, Side } from "#domain/schemas.js";

/** Operation ids kept per balance: far more than the steps of orders that can race on one currency. */
export const RECENT_OPS_KEPT = 200;

const Amount = z.string().regex(/^-?\d+(\.\d+)?$/);

/** One currency of the paper account; `recentOps` are the last balance changes applied to it. */
export const PaperBalance = z.object({
  currency: z.string(),
  available: Amount,
  hold: Amount,
  version: z.number().int(),
  recentOps: z.array(z.string()),
});
export type PaperBalance = z.infer<typeof PaperBalance>;

/** PENDING: being placed; FILLING/CANCELLING: decided, balances being moved (status OPEN outside). */
export const PaperOrderState = z.enum(["PENDING", "OPEN", "FILLING", "CANCELLING", "FILLED", "CANCELLED"]);
export type PaperOrderState = z.infer<typeof PaperOrderState>;

export const PlannedFill = z.object({
  price: Amount,
  baseSize: Amount,
  quoteValue: Amount,
  fee: Amount,
  totalQuote: Amount,
  liquidity: z.enum(["MAKER", "TAKER"]),
  tradeTime: z.string(),
});
export type PlannedFill = z.infer<typeof PlannedFill>;

export const PaperOrder = z.object({
  orderId: z.string(),
  clientOrderId: z.string(),
  productId: z.string(),
  side: Side,
  type: OrderType,
  state: PaperOrderState,
  quoteSize: Amount.optional(),
  baseSize: Amount.optional(),
  limitPrice: Amount.optional(),
  stopPrice: Amount.optional(),
  /** STOP_LIMIT: when the market reached the stop without filling it (a gap through the limit) */
  triggeredAt: z.string().optional(),
  /** funds a resting order reserves */
  hold: z.object({ currency: z.string(), amount: Amount }).optional(),
  fill: PlannedFill.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type PaperOrder = z.infer<typeof PaperOrder>;

export type BalanceOpOutcome =
  | { kind: "applied" }
  | { kind: "already-applied" }
  | { kind: "insufficient"; available: string };

export interface BalanceChange {
  currency: string;
  /** `<orderId>#<step>`: the same id is applied at most once */
  opId: string;
  availableDelta: Decimal.Value;
  holdDelta?: Decimal.Value;
  /** refuse (without writing) unless available is at least this before the change */
  requireAvailable?: Decimal.Value;
}

export interface PaperBookStore {
  /** the cash the account opens with (USD), seeded once on first use */
  readonly startingCashUsd: string;

  /** Every currency of the account, by currency; USD is seeded with the starting cash if missing. */
  balances(): Promise<PaperBalance[]>;
  /** Applies the change once per opId (a repeat is "already-applied"); never takes available below zero. */
  applyBalanceChange(change: BalanceChange): Promise<BalanceOpOutcome>;

  /** Returns the order id owning this clientOrderId: `candidate` if this call claimed it. */
  claimClientOrderId(clientOrderId: string, candidate: string, at: string): Promise<string>;
  /** The order id that owns this clientOrderId, if any placement claimed it. */
  claimedOrderId(clientOrderId: string): Promise<string | undefined>;
  /** A refused placement frees its clientOrderId, as a refused order does on Coinbase (only the owner's claim). */
  releaseClaim(clientOrderId: string, orderId: string): Promise<void>;

  order(orderId: string): Promise<PaperOrder | undefined>;
  /** Creates the order unless it exists; returns the stored one either way. */
  createOrder(order: PaperOrder): Promise<PaperOrder>;
  /** Moves the order from one of `from` to `to` (recording `fill` if given); false when it was not in `from`. */
  transition(
    orderId: string,
    from: readonly PaperOrderState[],
    to: PaperOrderState,
    at: string,
    fill?: PlannedFill,
  ): Promise<boolean>;
  /** Records that an open stop triggered without filling; a no-op when it is no longer open or already triggered. */
  markTriggered(orderId: string, at: string): Promise<void>;
  /** Removes a placement that was refused before any money moved (only while PENDING). */
  deletePendingOrder(orderId: string): Promise<void>;

  /** The index of resting LIMIT and STOP_LIMIT orders per product, so settlement reads one product. */
  markResting(productId: string, orderId: string): Promise<void>;
  unmarkResting(productId: string, orderId: string): Promise<void>;
  /** The product's resting order ids, in order id order. */
  restingOrderIds(productId: string): Promise<string[]>;

  /** Writes the fill (a rewrite of the same orderId and tradeId replaces it). */
  putFill(fill: Fill): Promise<void>;
  /** The order's fills, by tradeId. */
  fills(orderId: string): Promise<Fill[]>;
}

/** What a balance change does to `current` (undefined: the currency was never held). */
export type BalanceStep =
  | { kind: "already-applied" }
  | { kind: "insufficient"; available: string }
  | { kind: "write"; next: PaperBalance };

/**
 * The arithmetic of a balance change, shared by every book store: the dedup on opId, the
 * available check and the new amounts and version. Throws when the hold would go negative (the
 * books are inconsistent).
 */
export function planBalanceChange(current: PaperBalance | undefined, change: BalanceChange): BalanceStep {
  if (current?.recentOps.includes(change.opId)) return { kind: "already-applied" };
  const available = new Decimal(current?.available ?? 0);
  const hold = new Decimal(current?.hold ?? 0);
  if (change.requireAvailable !== undefined && available.lt(change.requireAvailable))
    return { kind: "insufficient", available: available.toFixed() };
  const nextAvailable = available.plus(change.availableDelta);
  const nextHold = hold.plus(change.holdDelta ?? 0);
  if (nextAvailable.isNegative()) return { kind: "insufficient", available: available.toFixed() };
  if (nextHold.isNegative())
    throw new Error(
      `paper ${change.currency} hold would go negative (${nextHold.toFixed()}) applying ${change.opId}: ` +
        "the books are inconsistent; inspect the PAPER#ORDER items holding this currency",
    );
  return {
    kind: "write",
    next: {
      currency: change.currency,
      available: nextAvailable.toFixed(),
      hold: nextHold.toFixed(),
      version: (current?.version ?? -1) + 1,
      recentOps: [...(current?.recentOps ?? []), change.opId].slice(-RECENT_OPS_KEPT),
    },
  };
}

/** The starting cash as the books store it; a RangeError names a bad value. */
export function startingUsdBalance(startingCashUsd: string): PaperBalance {
  const cash = new Decimal(startingCashUsd);
  if (!cash.isFinite() || cash.lt(0))
    throw new RangeError(`startingCashUsd must be a non-negative amount, got ${startingCashUsd}`);
  return { currency: "USD", available: cash.toFixed(), hold: "0", version: 0, recentOps: [] };
}
