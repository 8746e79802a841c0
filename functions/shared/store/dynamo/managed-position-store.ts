/**
 * Managed positions in the portfolio table, beside POSITION and EQUITY items:
 * - `pk = MANAGED_POSITION, sk = <positionId>`: the position (created once, then optimistic writes
 *   on `version`);
 * - `pk = MANAGED_POSITION#OPEN, sk = <positionId>`: a marker while the position is OPEN or CLOSING,
 *   so the position manager's every-minute read is one Query of the open ones, never of the history.
 * The marker is written after the position and deleted after it closed; a crash in between leaves a
 * marker of a CLOSED position, which openPositions skips and removes.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { ManagedPosition } from "#domain/schemas.js";
import type { ManagedPositionStore } from "#store/ports.js";
import { isConditionalCheckFailure, putIfAbsent, queryAllPages, withoutKeys } from "./client.js";

const KEYS = ["pk", "sk"] as const;
const POSITION = "MANAGED_POSITION";
const OPEN_MARKER = "MANAGED_POSITION#OPEN";

export class DynamoManagedPositionStore implements ManagedPositionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async open(position: ManagedPosition): Promise<{ created: boolean; position: ManagedPosition }> {
    const item = ManagedPosition.parse(position);
    const created = await putIfAbsent(
      this.db,
      this.table,
      { ...item, pk: POSITION, sk: item.positionId },
      "pk",
    );
    const stored = created ? item : await this.get(item.positionId);
    if (!stored)
      throw new Error(`managed position ${item.positionId} vanished right after a write refused as existing`);
    // the marker also on a repeat: a crash after the create must not leave an open position unwatched
    if (stored.status !== "CLOSED") await this.putMarker(stored);
    return { created, position: stored };
  }

  async get(positionId: string): Promise<ManagedPosition | undefined> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: POSITION, sk: positionId }, ConsistentRead: true }),
    );
    return res.Item ? ManagedPosition.parse(withoutKeys(res.Item, KEYS)) : undefined;
  }

  async openPositions(): Promise<ManagedPosition[]> {
    const markers = await queryAllPages(this.db, {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": OPEN_MARKER },
      ConsistentRead: true,
    });
    const out: ManagedPosition[] = [];
    for (const marker of markers) {
      const position = await this.get(String(marker.sk));
      if (position && position.status !== "CLOSED") out.push(position);
      else await this.deleteMarker(String(marker.sk));
    }
    return out;
  }

  async update(position: ManagedPosition, expectedVersion: number): Promise<boolean> {
    const item = ManagedPosition.parse({ ...position, version: expectedVersion + 1 });
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...item, pk: POSITION, sk: item.positionId },
          ConditionExpression: "attribute_exists(pk) AND #v = :v",
          ExpressionAttributeNames: { "#v": "version" },
          ExpressionAttributeValues: { ":v": expectedVersion },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
    if (item.status === "CLOSED") await this.deleteMarker(item.positionId);
    return true;
  }

  async allPositions(): Promise<ManagedPosition[]> {
    const items = await queryAllPages(this.db, {
      TableName: this.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": POSITION },
      ConsistentRead: true,
    });
    return items.map((item) => ManagedPosition.parse(withoutKeys(item, KEYS)));
  }

  private async putMarker(position: ManagedPosition): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: OPEN_MARKER,
          sk: position.positionId,
          symbol: position.symbol,
          openedAt: position.openedAt,
        },
      }),
    );
  }

  private async deleteMarker(positionId: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: OPEN_MARKER, sk: positionId } }),
    );
  }
}
