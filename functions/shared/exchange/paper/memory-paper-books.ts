/**
 * The paper exchange's books in memory (the backtester's venue), under the same rules as
 * PaperBooks in the portfolio table: a balance change applied once per operation id, a
 * clientOrderId claimed once, order states moved only from the states a step names, the resting
 * index per product, fills by order. Each call is atomic (no await between a check and its write),
 * so concurrent duplicates of a step race exactly as conditional writes make them race.
 */
import { Fill } from "#domain/schemas.js";
import { copyOf, SortedKeys } from "#store/memory/plumbing.js";
import {
  type BalanceChange,
  type BalanceOpOutcome,
  type PaperBalance,
  type PaperBookStore,
  PaperOrder,
  type PaperOrderState,
  PlannedFill,
  planBalanceChange,
  startingUsdBalance,
} from "./paper-book-store.js";

export class MemoryPaperBooks implements PaperBookStore {
  private readonly balanceOf = new Map<string, PaperBalance>();
  private readonly claims = new Map<string, string>();
  private readonly orders = new Map<string, PaperOrder>();
  private readonly resting = new Map<string, SortedKeys<string>>();
  /** fills per order id, by tradeId */
  private readonly fillsOf = new Map<string, Map<string, Fill>>();

  /** `startingCashUsd`: the USD the account opens with (a decimal string, as PaperSettings gives it). */
  constructor(readonly startingCashUsd: string) {}

  // ----- balances -----------------------------------------------------------------------------

  async balances(): Promise<PaperBalance[]> {
    this.seedUsd();
    return [...this.balanceOf.keys()].sort().map((currency) => copyOf(this.balanceOf.get(currency)!));
  }

  async applyBalanceChange(change: BalanceChange): Promise<BalanceOpOutcome> {
    if (change.currency === "USD") this.seedUsd();
    const step = planBalanceChange(this.balanceOf.get(change.currency), change);
    if (step.kind !== "write") return step;
    this.balanceOf.set(change.currency, step.next);
    return { kind: "applied" };
  }

  /** The account opens with its starting cash once, on first use, as PaperBooks seeds it. */
  private seedUsd(): void {
    if (!this.balanceOf.has("USD")) this.balanceOf.set("USD", startingUsdBalance(this.startingCashUsd));
  }

  // ----- client order id claims ---------------------------------------------------------------

  async claimClientOrderId(clientOrderId: string, candidate: string, _at: string): Promise<string> {
    const owner = this.claims.get(clientOrderId);
    if (owner !== undefined) return owner;
    this.claims.set(clientOrderId, candidate);
    return candidate;
  }

  async claimedOrderId(clientOrderId: string): Promise<string | undefined> {
    return this.claims.get(clientOrderId);
  }

  async releaseClaim(clientOrderId: string, orderId: string): Promise<void> {
    if (this.claims.get(clientOrderId) === orderId) this.claims.delete(clientOrderId);
  }

  // ----- orders -------------------------------------------------------------------------------

  async order(orderId: string): Promise<PaperOrder | undefined> {
    const order = this.orders.get(orderId);
    return order ? copyOf(order) : undefined;
  }

  async createOrder(order: PaperOrder): Promise<PaperOrder> {
    const parsed = PaperOrder.parse(order);
    const stored = this.orders.get(parsed.orderId);
    if (stored) return copyOf(stored);
    this.orders.set(parsed.orderId, parsed);
    return order;
  }

  async transition(
    orderId: string,
    from: readonly PaperOrderState[],
    to: PaperOrderState,
    at: string,
    fill?: PlannedFill,
  ): Promise<boolean> {
    const order = this.orders.get(orderId);
    if (!order || !from.includes(order.state)) return false;
    this.orders.set(orderId, {
      ...order,
      state: to,
      updatedAt: at,
      ...(fill ? { fill: PlannedFill.parse(fill) } : {}),
    });
    return true;
  }

  async markTriggered(orderId: string, at: string): Promise<void> {
    const order = this.orders.get(orderId);
    if (order?.state !== "OPEN" || order.triggeredAt !== undefined) return;
    this.orders.set(orderId, { ...order, triggeredAt: at, updatedAt: at });
  }

  async deletePendingOrder(orderId: string): Promise<void> {
    if (this.orders.get(orderId)?.state === "PENDING") this.orders.delete(orderId);
  }

  async markResting(productId: string, orderId: string): Promise<void> {
    let ids = this.resting.get(productId);
    if (!ids) {
      ids = new SortedKeys<string>();
      this.resting.set(productId, ids);
    }
    ids.add(orderId);
  }

  async unmarkResting(productId: string, orderId: string): Promise<void> {
    this.resting.get(productId)?.delete(orderId);
  }

  async restingOrderIds(productId: string): Promise<string[]> {
    return [...(this.resting.get(productId)?.all() ?? [])];
  }

  // ----- fills --------------------------------------------------------------------------------

  async putFill(fill: Fill): Promise<void> {
    const parsed = Fill.parse(fill);
    let ofOrder = this.fillsOf.get(parsed.orderId);
    if (!ofOrder) {
      ofOrder = new Map();
      this.fillsOf.set(parsed.orderId, ofOrder);
    }
    ofOrder.set(parsed.tradeId, parsed);
  }

  async fills(orderId: string): Promise<Fill[]> {
    const ofOrder = this.fillsOf.get(orderId);
    if (!ofOrder) return [];
    return [...ofOrder.keys()].sort().map((tradeId) => copyOf(ofOrder.get(tradeId)!));
  }
}
