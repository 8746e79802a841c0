import { Recommendation, type RecommendationStatus } from "#domain/schemas.js";
import {
  checkTransitionRequest,
  IllegalTransitionError,
  RecommendationNotFoundError,
  type RecommendationStore,
  type TransitionResult,
} from "#store/ports.js";
import { copyOf, SortedKeys } from "./plumbing.js";

type Patch = Parameters<RecommendationStore["transition"]>[5];

/** The fields a transition may patch: the rest of a transition's write is valid by construction. */
const TransitionPatch = Recommendation.pick({
  stopLoss: true,
  takeProfit: true,
  positionSizePercent: true,
  amountCrypto: true,
  approvedAmountUsd: true,
  orderId: true,
  clientOrderId: true,
  reasoning: true,
}).partial();

/** createdAt then recommendationId: the byStatus index order, ties broken by the table key. */
const indexKey = (r: Recommendation) => `${r.createdAt}\u0000${r.recommendationId}`;
const idOfIndexKey = (key: string) => key.slice(key.indexOf("\u0000") + 1);
/** Above every index key whose createdAt is `iso`, below every later one. */
const afterAllAt = (iso: string) => `${iso}\u0001`;

/**
 * Recommendations with the byStatus index of the recommendations table; a transition is atomic
 * (no await between the check and the write), as the DynamoDB conditional update is.
 */
export class MemoryRecommendationStore implements RecommendationStore {
  private readonly byId = new Map<string, Recommendation>();
  private readonly byStatus = new Map<RecommendationStatus, SortedKeys<string>>();
  /** the bridge's per-cycle counters; a cycle never reserved has no counter (not 0) */
  private readonly slots = new Map<string, number>();

  async create(recommendation: Recommendation): Promise<boolean> {
    const stored = Recommendation.parse(recommendation);
    if (this.byId.has(stored.recommendationId)) return false;
    this.byId.set(stored.recommendationId, stored);
    this.statusIndex(stored.status).add(indexKey(stored));
    return true;
  }

  async reserveValidationSlot(cycle: string, max: number): Promise<boolean> {
    // the DynamoDB condition: `attribute_not_exists(slots) OR slots < max`
    const taken = this.slots.get(cycle);
    if (taken !== undefined && !(taken < max)) return false;
    this.slots.set(cycle, (taken ?? 0) + 1);
    return true;
  }

  async releaseValidationSlot(cycle: string): Promise<void> {
    const taken = this.slots.get(cycle);
    if (taken !== undefined && taken > 0) this.slots.set(cycle, taken - 1);
  }

  async get(recommendationId: string): Promise<Recommendation | undefined> {
    const r = this.byId.get(recommendationId);
    return r ? copyOf(r) : undefined;
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
    const current = this.byId.get(recommendationId);
    if (!current) throw new RecommendationNotFoundError(recommendationId);
    if (current.status !== from) {
      if (current.status === to) return { changed: false, recommendation: copyOf(current) };
      throw new IllegalTransitionError(recommendationId, from, to, current.status);
    }
    const at = now.toISOString();
    // the stored record is valid and so is what the transition adds; only the patch is checked,
    // before anything is written (DynamoDB would write it, then fail to parse what it read back)
    const fields = patch ? TransitionPatch.parse(patch) : {};
    const stored: Recommendation = {
      ...current,
      status: to,
      statusReason: reason,
      updatedAt: at,
      history: [...current.history, { from, to, at, reason }],
    };
    for (const key in fields) {
      const value = fields[key as keyof typeof fields];
      if (value !== undefined) (stored as Record<string, unknown>)[key] = value;
    }
    this.byId.set(recommendationId, stored);
    this.statusIndex(from).delete(indexKey(current));
    this.statusIndex(to).add(indexKey(stored));
    return { changed: true, recommendation: copyOf(stored) };
  }

  async byStatusCreatedBetween(
    status: RecommendationStatus,
    from: Date,
    to: Date,
  ): Promise<Recommendation[]> {
    // BETWEEN, as the DynamoDB key condition: both ends included; newest first
    const keys = this.statusIndex(status).between(from.toISOString(), afterAllAt(to.toISOString()));
    return keys.reverse().map((key) => copyOf(this.byId.get(idOfIndexKey(key))!));
  }

  async byStatusCreatedBefore(
    status: RecommendationStatus,
    before: Date,
    limit?: number,
  ): Promise<Recommendation[]> {
    const keys = this.statusIndex(status).below(before.toISOString());
    const wanted = limit === undefined ? keys : keys.slice(0, limit);
    return wanted.map((key) => copyOf(this.byId.get(idOfIndexKey(key))!));
  }

  private statusIndex(status: RecommendationStatus): SortedKeys<string> {
    let index = this.byStatus.get(status);
    if (!index) {
      index = new SortedKeys<string>();
      this.byStatus.set(status, index);
    }
    return index;
  }
}
