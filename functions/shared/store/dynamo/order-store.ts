import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { Fill, Order, TERMINAL_ORDER_STATUSES } from "#domain/schemas.js";
import type { OrderStore } from "#store/ports.js";
import { isConditionalCheckFailure, putIfAbsent, queryAllPages, withoutKeys } from "./client.js";

const ORDER_KEYS = ["item", "openVenue", "openSince"] as const;

function orderItem(order: Order): Record<string, unknown> {
  const open = !TERMINAL_ORDER_STATUSES.includes(order.status) || !order.reconciled;
  // `openVenue`/`openSince` exist only on orders the portfolio still has to reconcile (working, or
  // finished with fills not yet applied): the openOrders index is sparse.
  return { ...order, item: "ORDER", ...(open ? { openVenue: order.venue, openSince: order.createdAt } : {}) };
}

export class DynamoOrderStore implements OrderStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putOrderIfAbsent(order: Order): Promise<{ created: boolean; order: Order }> {
    if (await putIfAbsent(this.db, this.table, orderItem(Order.parse(order)), "clientOrderId")) {
      return { created: true, order };
    }
    const existing = await this.getOrder(order.clientOrderId);
    return { created: false, order: existing ?? order };
  }

  async getOrder(clientOrderId: string): Promise<Order | undefined> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { clientOrderId, item: "ORDER" }, ConsistentRead: true }),
    );
    return res.Item ? Order.parse(withoutKeys(res.Item, ORDER_KEYS)) : undefined;
  }

  async updateOrder(order: Order): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: orderItem(Order.parse(order)),
        ConditionExpression: "attribute_exists(clientOrderId)",
      }),
    );
  }

  async failOrderIfUnplaced(
    clientOrderId: string,
    reason: string,
    now: Date,
  ): Promise<{ changed: boolean; order: Order | undefined }> {
    try {
      const res = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { clientOrderId, item: "ORDER" },
          ConditionExpression: "#status = :pending AND orderId = :none",
          UpdateExpression:
            "SET #status = :failed, failureReason = :reason, reconciled = :true, updatedAt = :at REMOVE openVenue, openSince",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":pending": "PENDING",
            ":none": "",
            ":failed": "FAILED",
            ":reason": reason,
            ":true": true,
            ":at": now.toISOString(),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return { changed: true, order: Order.parse(withoutKeys(res.Attributes ?? {}, ORDER_KEYS)) };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      return { changed: false, order: await this.getOrder(clientOrderId) };
    }
  }

  async openOrders(): Promise<Order[]> {
    const out: Order[] = [];
    for (const venue of ["paper", "coinbase"] as const) {
      const items = await queryAllPages(this.db, {
        TableName: this.table,
        IndexName: "openOrders",
        KeyConditionExpression: "openVenue = :v",
        ExpressionAttributeValues: { ":v": venue },
      });
      for (const item of items) out.push(Order.parse(withoutKeys(item, ORDER_KEYS)));
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async putFill(fill: Fill): Promise<boolean> {
    return putIfAbsent(
      this.db,
      this.table,
      { ...Fill.parse(fill), item: `FILL#${fill.tradeId}` },
      "clientOrderId",
    );
  }

  async fillsOf(clientOrderId: string): Promise<Fill[]> {
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "clientOrderId = :c AND begins_with(#item, :f)",
        ExpressionAttributeNames: { "#item": "item" },
        ExpressionAttributeValues: { ":c": clientOrderId, ":f": "FILL#" },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map((item) => Fill.parse(withoutKeys(item, ["item"])));
  }
}
