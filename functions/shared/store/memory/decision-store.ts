import { RiskDecision, Validation } from "#domain/schemas.js";
import type { DecisionStore } from "#store/ports.js";
import { copyOf } from "./plumbing.js";

/** One LLM validation and one risk decision per recommendation, each written once. */
export class MemoryDecisionStore implements DecisionStore {
  private readonly validations = new Map<string, Validation>();
  private readonly riskDecisions = new Map<string, RiskDecision>();

  async putValidation(validation: Validation): Promise<{ created: boolean; validation: Validation }> {
    const parsed = Validation.parse(validation);
    const existing = this.validations.get(parsed.recommendationId);
    if (existing) return { created: false, validation: copyOf(existing) };
    this.validations.set(parsed.recommendationId, parsed);
    return { created: true, validation };
  }

  async getValidation(recommendationId: string): Promise<Validation | undefined> {
    const v = this.validations.get(recommendationId);
    return v ? copyOf(v) : undefined;
  }

  async putRiskDecision(decision: RiskDecision): Promise<{ created: boolean; decision: RiskDecision }> {
    const parsed = RiskDecision.parse(decision);
    const existing = this.riskDecisions.get(parsed.recommendationId);
    if (existing) return { created: false, decision: copyOf(existing) };
    this.riskDecisions.set(parsed.recommendationId, parsed);
    return { created: true, decision };
  }

  async getRiskDecision(recommendationId: string): Promise<RiskDecision | undefined> {
    const d = this.riskDecisions.get(recommendationId);
    return d ? copyOf(d) : undefined;
  }
}
