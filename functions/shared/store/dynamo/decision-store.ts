import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { RiskDecision, Validation } from "#domain/schemas.js";
import type { DecisionStore } from "#store/ports.js";
import { putIfAbsent, withoutKeys } from "./client.js";

type Kind = "VALIDATION" | "RISK";

export class DynamoDecisionStore implements DecisionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putValidation(validation: Validation): Promise<{ created: boolean; validation: Validation }> {
    const created = await this.putOnce("VALIDATION", Validation.parse(validation));
    const stored = created ? validation : await this.getValidation(validation.recommendationId);
    return { created, validation: stored ?? validation };
  }

  async getValidation(recommendationId: string): Promise<Validation | undefined> {
    const item = await this.getItem(recommendationId, "VALIDATION");
    return item ? Validation.parse(item) : undefined;
  }

  async putRiskDecision(decision: RiskDecision): Promise<{ created: boolean; decision: RiskDecision }> {
    const created = await this.putOnce("RISK", RiskDecision.parse(decision));
    const stored = created ? decision : await this.getRiskDecision(decision.recommendationId);
    return { created, decision: stored ?? decision };
  }

  async getRiskDecision(recommendationId: string): Promise<RiskDecision | undefined> {
    const item = await this.getItem(recommendationId, "RISK");
    return item ? RiskDecision.parse(item) : undefined;
  }

  private async putOnce(kind: Kind, item: { recommendationId: string }): Promise<boolean> {
    return putIfAbsent(this.db, this.table, { ...item, kind }, "recommendationId");
  }

  private async getItem(recommendationId: string, kind: Kind): Promise<Record<string, unknown> | undefined> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { recommendationId, kind }, ConsistentRead: true }),
    );
    return res.Item ? withoutKeys(res.Item, ["kind"]) : undefined;
  }
}
