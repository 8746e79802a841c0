import { Fill, Order, TERMINAL_ORDER_STATUSES } from "#domain/schemas.js";
import type { OrderStore } from "#store/ports.js";
import { ConditionalWriteRefused, compareKeys, copyOf } from "./plumbing.js";

/** The openOrders index is queried venue by venue, paper first. */
const VENUE_RANK: Record<Order["venue"], number> = { paper: 0, coinbase: 1 };

/** Working, or finished with fills the portfolio has not applied yet: what the sparse openOrders index holds. */
const isOpen = (order: Order) => !TERMINAL_ORDER_STATUSES.includes(order.status) || !order.reconciled;

/** Orders by client order id, their fills, and the sparse index of the orders still to reconcile. */
export class MemoryOrderStore implements OrderStore {
  private readonly orders = new Map<string, Order>();
  private readonly open = new Set<string>();
  /** fills per client order id, by tradeId */
  private readonly fills = new Map<string, Map<string, Fill>>();

  async putOrderIfAbsent(order: Order): Promise<{ created: boolean; order: Order }> {
    const parsed = Order.parse(order);
    const existing = this.orders.get(parsed.clientOrderId);
    if (existing) return { created: false, order: copyOf(existing) };
    this.store(parsed);
    return { created: true, order };
  }

  async getOrder(clientOrderId: string): Promise<Order | undefined> {
    const order = this.orders.get(clientOrderId);
    return order ? copyOf(order) : undefined;
  }

  async updateOrder(order: Order): Promise<void> {
    const parsed = Order.parse(order);
    if (!this.orders.has(parsed.clientOrderId))
      throw new ConditionalWriteRefused(
        `order ${parsed.clientOrderId} does not exist: create it with putOrderIfAbsent before updating it`,
      );
    this.store(parsed);
  }

  async failOrderIfUnplaced(
    clientOrderId: string,
    reason: string,
    now: Date,
  ): Promise<{ changed: boolean; order: Order | undefined }> {
    const current = this.orders.get(clientOrderId);
    if (!current) return { changed: false, order: undefined };
    // only an order never placed: PENDING with no exchange order id
    if (current.status !== "PENDING" || current.orderId !== "")
      return { changed: false, order: copyOf(current) };
    const failed: Order = {
      ...current,
      status: "FAILED",
      failureReason: reason,
      reconciled: true,
      updatedAt: now.toISOString(),
    };
    this.store(failed);
    return { changed: true, order: copyOf(failed) };
  }

  async openOrders(): Promise<Order[]> {
    const out: Order[] = [];
    for (const id of this.open) out.push(copyOf(this.orders.get(id)!));
    return out.sort(
      (a, b) =>
        compareKeys(a.createdAt, b.createdAt) ||
        VENUE_RANK[a.venue] - VENUE_RANK[b.venue] ||
        compareKeys(a.clientOrderId, b.clientOrderId),
    );
  }

  async putFill(fill: Fill): Promise<boolean> {
    const parsed = Fill.parse(fill);
    let ofOrder = this.fills.get(parsed.clientOrderId);
    if (!ofOrder) {
      ofOrder = new Map();
      this.fills.set(parsed.clientOrderId, ofOrder);
    }
    if (ofOrder.has(parsed.tradeId)) return false;
    ofOrder.set(parsed.tradeId, parsed);
    return true;
  }

  async fillsOf(clientOrderId: string): Promise<Fill[]> {
    const ofOrder = this.fills.get(clientOrderId);
    if (!ofOrder) return [];
    return [...ofOrder.values()].sort((a, b) => compareKeys(a.tradeId, b.tradeId)).map((f) => copyOf(f));
  }

  private store(order: Order): void {
    this.orders.set(order.clientOrderId, order);
    if (isOpen(order)) this.open.add(order.clientOrderId);
    else this.open.delete(order.clientOrderId);
  }
}
