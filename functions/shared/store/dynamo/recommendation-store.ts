import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Recommendation, type RecommendationStatus } from "#domain/schemas.js";
import {
  checkTransitionRequest,
  IllegalTransitionError,
  RecommendationNotFoundError,
  type RecommendationStore,
  type TransitionResult,
} from "#store/ports.js";
import { isConditionalCheckFailure, putIfAbsent, queryAllPages } from "./client.js";

type Patch = Parameters<RecommendationStore["transition"]>[5];

/** The bridge's per-cycle counter item; recommendation ids never start with this. */
const cycleKey = (cycle: string) => `BRIDGE_CYCLE#${cycle}`;

export class DynamoRecommendationStore implements RecommendationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(recommendation: Recommendation): Promise<boolean> {
    const item = Recommendation.parse(recommendation);
    return putIfAbsent(this.db, this.table, item, "recommendationId");
  }

  async reserveValidationSlot(cycle: string, max: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          // a counter item beside the recommendations: it has no status, so no index holds it
          Key: { recommendationId: cycleKey(cycle) },
          UpdateExpression: "ADD slots :one",
          ConditionExpression: "attribute_not_exists(slots) OR slots < :max",
          ExpressionAttributeValues: { ":one": 1, ":max": max },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  async releaseValidationSlot(cycle: string): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: { recommendationId: cycleKey(cycle) },
          UpdateExpression: "ADD slots :minus",
          ConditionExpression: "slots > :zero",
          ExpressionAttributeValues: { ":minus": -1, ":zero": 0 },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionalCheckFailure(error)) throw error;
      });
  }

  async get(recommendationId: string): Promise<Recommendation | undefined> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { recommendationId }, ConsistentRead: true }),
    );
    return res.Item ? Recommendation.parse(res.Item) : undefined;
  }

  async transition(
    recommendationId: string,
    from: RecommendationStatus,
    to: RecommendationStatus,
    reason: string,
    now: Date,
    patch: Patch = {},
  ): Promise<TransitionResult> {
    checkTransitionRequest(recommendationId, from, to, reason);
    const at = now.toISOString();
    const names: Record<string, string> = {
      "#status": "status",
      "#reason": "statusReason",
      "#updated": "updatedAt",
    };
    const values: Record<string, unknown> = {
      ":from": from,
      ":to": to,
      ":reason": reason,
      ":now": at,
      ":change": [{ from, to, at, reason }],
    };
    const sets = [
      "#status = :to",
      "#reason = :reason",
      "#updated = :now",
      "history = list_append(history, :change)",
    ];
    for (const [key, value] of Object.entries(patch ?? {})) {
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      sets.push(`#${key} = :${key}`);
    }
    try {
      const res = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { recommendationId },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: "#status = :from",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return { changed: true, recommendation: Recommendation.parse(res.Attributes) };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      const current = await this.get(recommendationId);
      if (!current) throw new RecommendationNotFoundError(recommendationId);
      if (current.status === to) return { changed: false, recommendation: current };
      throw new IllegalTransitionError(recommendationId, from, to, current.status);
    }
  }

  async byStatusCreatedBetween(
    status: RecommendationStatus,
    from: Date,
    to: Date,
  ): Promise<Recommendation[]> {
    return this.queryByStatus(
      status,
      "createdAt BETWEEN :a AND :b",
      { ":a": from.toISOString(), ":b": to.toISOString() },
      false,
    );
  }

  async byStatusCreatedBefore(
    status: RecommendationStatus,
    before: Date,
    limit?: number,
  ): Promise<Recommendation[]> {
    return this.queryByStatus(status, "createdAt < :a", { ":a": before.toISOString() }, true, limit);
  }

  private async queryByStatus(
    status: RecommendationStatus,
    sortCondition: string,
    values: Record<string, string>,
    ascending: boolean,
    limit?: number,
  ): Promise<Recommendation[]> {
    const items = await queryAllPages(
      this.db,
      {
        TableName: this.table,
        IndexName: "byStatus",
        KeyConditionExpression: `#status = :status AND ${sortCondition}`,
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":status": status, ...values },
        ScanIndexForward: ascending,
      },
      limit,
    );
    return items.map((item) => Recommendation.parse(item));
  }
}
