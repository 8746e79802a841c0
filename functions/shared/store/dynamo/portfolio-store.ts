import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { EquitySnapshot, KillSwitch, Position } from "#domain/schemas.js";
import { killSwitchState } from "#store/kill-switch-state.js";
import type { KillSwitchStore, KillSwitchTripRecord, PortfolioStore, Reservation } from "#store/ports.js";
import { putIfAbsent, queryAllPages, withoutKeys } from "./client.js";

const KEYS = ["pk", "sk"] as const;

export class DynamoPortfolioStore implements PortfolioStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getPositions(): Promise<Position[]> {
    const items = await queryAll(this.db, this.table, "POSITION");
    return items.map((item) => Position.parse(withoutKeys(item, KEYS)));
  }

  async putPosition(position: Position): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...Position.parse(position), pk: "POSITION", sk: position.symbol },
      }),
    );
  }

  async putEquitySnapshot(snapshot: EquitySnapshot): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...EquitySnapshot.parse(snapshot), pk: "EQUITY", sk: snapshot.at },
      }),
    );
  }

  async latestEquitySnapshot(): Promise<EquitySnapshot | undefined> {
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": "EQUITY" },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = res.Items?.[0];
    return item ? EquitySnapshot.parse(withoutKeys(item, KEYS)) : undefined;
  }

  async equityHistory(from: Date, to: Date): Promise<EquitySnapshot[]> {
    const items = await queryAll(this.db, this.table, "EQUITY", [from.toISOString(), to.toISOString()]);
    return items.map((item) => EquitySnapshot.parse(withoutKeys(item, KEYS)));
  }

  async recordApproval(reservation: Reservation, day: string): Promise<void> {
    // The reservation is created once per recommendation; only its creation counts a trade, so a
    // redelivered risk message never counts twice. The counter is one item per day.
    const item = { ...reservation, pk: "RESERVATION", sk: reservation.recommendationId };
    if (!(await putIfAbsent(this.db, this.table, item, "pk"))) return;
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: "APPROVALS", sk: day },
        UpdateExpression: "ADD approvals :one",
        ExpressionAttributeValues: { ":one": 1 },
      }),
    );
  }

  async reservations(): Promise<Reservation[]> {
    const items = await queryAll(this.db, this.table, "RESERVATION");
    return items.map((item) => withoutKeys(item, KEYS) as unknown as Reservation);
  }

  async releaseReservation(recommendationId: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: "RESERVATION", sk: recommendationId } }),
    );
  }

  async approvalsOn(day: string): Promise<number> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: "APPROVALS", sk: day }, ConsistentRead: true }),
    );
    return typeof res.Item?.approvals === "number" ? res.Item.approvals : 0;
  }
}

const KILL_SWITCH_OFF: KillSwitch = {
  active: false,
  changedBy: "system",
  changedAt: "1970-01-01T00:00:00.000Z",
  reason: "never set: trading allowed",
};

export class DynamoKillSwitchStore implements KillSwitchStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(): Promise<KillSwitch> {
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND sk = :sk",
        ExpressionAttributeValues: { ":pk": "KILL_SWITCH", ":sk": "CURRENT" },
        ConsistentRead: true,
      }),
    );
    const item = res.Items?.[0];
    return item ? KillSwitch.parse(withoutKeys(item, KEYS)) : KILL_SWITCH_OFF;
  }

  async set(
    active: boolean,
    changedBy: string,
    reason: string,
    now: Date,
    trip?: KillSwitchTripRecord,
    options: { peakResetAt?: Date } = {},
  ): Promise<KillSwitch> {
    const state = killSwitchState(active, changedBy, reason, now, trip, options);
    // audit entry first: a crash in between leaves a trail entry, never a silent change
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...state, pk: "KILL_SWITCH", sk: `AUDIT#${state.changedAt}#${changedBy}` },
      }),
    );
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { ...state, pk: "KILL_SWITCH", sk: "CURRENT" } }),
    );
    return state;
  }

  async auditTrail(limit: number): Promise<KillSwitch[]> {
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :a)",
        ExpressionAttributeValues: { ":pk": "KILL_SWITCH", ":a": "AUDIT#" },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (res.Items ?? []).map((item) => KillSwitch.parse(withoutKeys(item, KEYS)));
  }
}

function queryAll(
  db: DynamoDBDocumentClient,
  table: string,
  pk: string,
  skBetween?: [string, string],
): Promise<Record<string, unknown>[]> {
  return queryAllPages(db, {
    TableName: table,
    KeyConditionExpression: skBetween ? "pk = :pk AND sk BETWEEN :a AND :b" : "pk = :pk",
    ExpressionAttributeValues: skBetween
      ? { ":pk": pk, ":a": skBetween[0], ":b": skBetween[1] }
      : { ":pk": pk },
    ConsistentRead: true,
  });
}
