/**
 * The paper exchange's books in the portfolio table, written with single-item conditional writes
 * only (DynamoDB and the local cloud both support them; the local cloud has no transactions).
 *
 * Items (pk / sk):
 *   PAPER#BALANCE / <currency>           available, hold, version, recentOps
 *   PAPER#CLIENT_ORDER / <clientOrderId> orderId: the idempotency claim, created once
 *   PAPER#ORDER / <orderId>              the order, its state and the fill it was priced at
 *   PAPER#OPEN / <productId>#<orderId>   resting LIMIT and STOP_LIMIT orders, so settlement reads one partition
 *   PAPER#FILL / <orderId>#<tradeId>     fills
 *
 * A balance change is identified by an operation id (`<orderId>#<step>`): the update is a
 * read-modify-write guarded by the item's version (optimistic locking, retried on conflict) and
 * records the id in `recentOps`, so replaying a step after a crash or from a concurrent duplicate
 * of the same order never moves money twice.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { Fill } from "#domain/schemas.js";
import { isConditionalCheckFailure, queryAllPages, withoutKeys } from "#store/dynamo/client.js";
import {
  type BalanceChange,
  type BalanceOpOutcome,
  PaperBalance,
  type PaperBookStore,
  PaperOrder,
  type PaperOrderState,
  PlannedFill,
  planBalanceChange,
  startingUsdBalance,
} from "./paper-book-store.js";

export type { BalanceChange, BalanceOpOutcome } from "./paper-book-store.js";
export { PaperOrder, PaperOrderState, PlannedFill } from "./paper-book-store.js";

export const PAPER_PK = {
  balance: "PAPER#BALANCE",
  clientOrder: "PAPER#CLIENT_ORDER",
  order: "PAPER#ORDER",
  open: "PAPER#OPEN",
  fill: "PAPER#FILL",
} as const;

const MAX_WRITE_ATTEMPTS = 200;

export class PaperBooks implements PaperBookStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    readonly startingCashUsd: string,
  ) {}

  // ----- balances -----------------------------------------------------------------------------

  async balances(): Promise<PaperBalance[]> {
    let items = await this.queryAll(PAPER_PK.balance);
    if (!items.some((i) => i.sk === "USD")) {
      await this.seedUsd();
      items = await this.queryAll(PAPER_PK.balance);
    }
    return items.map((i) => PaperBalance.parse(withoutKeys(i, ["pk", "sk"])));
  }

  async balance(currency: string): Promise<PaperBalance | undefined> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: PAPER_PK.balance, sk: currency },
        ConsistentRead: true,
      }),
    );
    if (res.Item) return PaperBalance.parse(withoutKeys(res.Item, ["pk", "sk"]));
    if (currency !== "USD") return undefined;
    await this.seedUsd();
    return this.balance(currency);
  }

  /** The paper account opens with its starting cash once; a second seed is a no-op. */
  private async seedUsd(): Promise<void> {
    await this.putIfAbsent({ pk: PAPER_PK.balance, sk: "USD", ...startingUsdBalance(this.startingCashUsd) });
  }

  async applyBalanceChange(change: BalanceChange): Promise<BalanceOpOutcome> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.balance(change.currency);
      const step = planBalanceChange(current, change);
      if (step.kind !== "write") return step;
      const next = step.next;
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: PAPER_PK.balance, sk: change.currency, ...next },
            ...(current
              ? {
                  ConditionExpression: "#version = :v",
                  ExpressionAttributeNames: { "#version": "version" },
                  ExpressionAttributeValues: { ":v": current.version },
                }
              : { ConditionExpression: "attribute_not_exists(pk)" }),
          }),
        );
        return { kind: "applied" };
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        await sleep(Math.random() * Math.min(50, 2 + attempt * 2));
      }
    }
    throw new Error(
      `paper ${change.currency} balance kept changing under ${change.opId} (${MAX_WRITE_ATTEMPTS} attempts); ` +
        "retry the order with the same clientOrderId",
    );
  }

  // ----- client order id claims ---------------------------------------------------------------

  /** Returns the order id owning this clientOrderId: `candidate` if this call claimed it. */
  async claimClientOrderId(clientOrderId: string, candidate: string, at: string): Promise<string> {
    const created = await this.putIfAbsent({
      pk: PAPER_PK.clientOrder,
      sk: clientOrderId,
      orderId: candidate,
      createdAt: at,
    });
    if (created) return candidate;
    const orderId = await this.claimedOrderId(clientOrderId);
    if (orderId === undefined)
      // the claim was released between the two reads (a refused twin): claim again
      return this.claimClientOrderId(clientOrderId, candidate, at);
    return orderId;
  }

  /** The order id that owns this clientOrderId, if any placement claimed it. */
  async claimedOrderId(clientOrderId: string): Promise<string | undefined> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: PAPER_PK.clientOrder, sk: clientOrderId },
        ConsistentRead: true,
      }),
    );
    const orderId = res.Item?.orderId;
    return typeof orderId === "string" ? orderId : undefined;
  }

  /** A refused placement frees its clientOrderId, as a refused order does on Coinbase. */
  async releaseClaim(clientOrderId: string, orderId: string): Promise<void> {
    await this.deleteIf(
      { pk: PAPER_PK.clientOrder, sk: clientOrderId },
      "#orderId = :o",
      { ":o": orderId },
      { "#orderId": "orderId" },
    );
  }

  // ----- orders -------------------------------------------------------------------------------

  async order(orderId: string): Promise<PaperOrder | undefined> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: PAPER_PK.order, sk: orderId },
        ConsistentRead: true,
      }),
    );
    return res.Item ? PaperOrder.parse(withoutKeys(res.Item, ["pk", "sk"])) : undefined;
  }

  /** Creates the order unless it exists; returns the stored one either way. */
  async createOrder(order: PaperOrder): Promise<PaperOrder> {
    const created = await this.putIfAbsent({
      pk: PAPER_PK.order,
      sk: order.orderId,
      ...PaperOrder.parse(order),
    });
    if (created) return order;
    const stored = await this.order(order.orderId);
    if (!stored) return this.createOrder(order);
    return stored;
  }

  /** Moves the order from one of `from` to `to`; false when it was not in `from`. */
  async transition(
    orderId: string,
    from: readonly PaperOrderState[],
    to: PaperOrderState,
    at: string,
    fill?: PlannedFill,
  ): Promise<boolean> {
    const values: Record<string, unknown> = { ":to": to, ":at": at };
    from.forEach((s, i) => {
      values[`:f${i}`] = s;
    });
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: PAPER_PK.order, sk: orderId },
          UpdateExpression: `SET #state = :to, #updatedAt = :at${fill ? ", #fill = :fill" : ""}`,
          ConditionExpression: `#state IN (${from.map((_, i) => `:f${i}`).join(", ")})`,
          ExpressionAttributeNames: {
            "#state": "state",
            "#updatedAt": "updatedAt",
            ...(fill ? { "#fill": "fill" } : {}),
          },
          ExpressionAttributeValues: fill ? { ...values, ":fill": PlannedFill.parse(fill) } : values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  /** Records that an open stop triggered without filling; a no-op when it is no longer open or already triggered. */
  async markTriggered(orderId: string, at: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: PAPER_PK.order, sk: orderId },
          UpdateExpression: "SET #triggeredAt = :at, #updatedAt = :at",
          ConditionExpression: "#state = :open AND attribute_not_exists(#triggeredAt)",
          ExpressionAttributeNames: {
            "#state": "state",
            "#triggeredAt": "triggeredAt",
            "#updatedAt": "updatedAt",
          },
          ExpressionAttributeValues: { ":open": "OPEN", ":at": at },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }

  /** Removes a placement that was refused before any money moved. */
  async deletePendingOrder(orderId: string): Promise<void> {
    await this.deleteIf(
      { pk: PAPER_PK.order, sk: orderId },
      "#state = :p",
      { ":p": "PENDING" },
      { "#state": "state" },
    );
  }

  async markResting(productId: string, orderId: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: PAPER_PK.open, sk: `${productId}#${orderId}`, orderId },
      }),
    );
  }

  async unmarkResting(productId: string, orderId: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: PAPER_PK.open, sk: `${productId}#${orderId}` } }),
    );
  }

  async restingOrderIds(productId: string): Promise<string[]> {
    const items = await this.queryAll(PAPER_PK.open, `${productId}#`);
    return items.map((i) => String(i.orderId));
  }

  // ----- fills --------------------------------------------------------------------------------

  async putFill(fill: Fill): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: PAPER_PK.fill, sk: `${fill.orderId}#${fill.tradeId}`, ...Fill.parse(fill) },
      }),
    );
  }

  async fills(orderId: string): Promise<Fill[]> {
    const items = await this.queryAll(PAPER_PK.fill, `${orderId}#`);
    return items.map((i) => Fill.parse(withoutKeys(i, ["pk", "sk"])));
  }

  // ----- plumbing -----------------------------------------------------------------------------

  private async putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  private async deleteIf(
    key: { pk: string; sk: string },
    condition: string,
    values: Record<string, unknown>,
    names?: Record<string, string>,
  ): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: key,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ...(names ? { ExpressionAttributeNames: names } : {}),
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }

  private queryAll(pk: string, skPrefix?: string): Promise<Record<string, unknown>[]> {
    return queryAllPages(this.db, {
      TableName: this.table,
      KeyConditionExpression: skPrefix ? "pk = :pk AND begins_with(sk, :p)" : "pk = :pk",
      ExpressionAttributeValues: skPrefix ? { ":pk": pk, ":p": skPrefix } : { ":pk": pk },
      ConsistentRead: true,
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
