/**
 * Small in-memory implementations of the store ports, faithful to their contracts (create-once
 * validations, conditional transitions that follow the lifecycle), for the validation use case
 * tests. Every call yields to the event loop so concurrent deliveries really interleave.
 */
import { canTransition } from "#domain/recommendation-lifecycle.js";
import type {
  Candle,
  Granularity,
  Recommendation,
  RecommendationStatus,
  RiskDecision,
  RiskRequest,
  Signal,
  Validation,
} from "#domain/schemas.js";
import {
  type CandleStore,
  type DecisionStore,
  IllegalTransitionError,
  RecommendationNotFoundError,
  type RecommendationStore,
  type SignalStore,
  type TransitionResult,
} from "#store/ports.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class InMemoryRecommendations implements RecommendationStore {
  readonly items = new Map<string, Recommendation>();
  transitionsWritten = 0;

  async create(r: Recommendation): Promise<boolean> {
    await tick();
    if (this.items.has(r.recommendationId)) return false;
    this.items.set(r.recommendationId, structuredClone(r));
    return true;
  }
  readonly slots = new Map<string, number>();
  async reserveValidationSlot(cycle: string, max: number): Promise<boolean> {
    await tick();
    const taken = this.slots.get(cycle) ?? 0;
    if (taken >= max) return false;
    this.slots.set(cycle, taken + 1);
    return true;
  }
  async releaseValidationSlot(cycle: string): Promise<void> {
    await tick();
    this.slots.set(cycle, Math.max(0, (this.slots.get(cycle) ?? 0) - 1));
  }
  async get(id: string): Promise<Recommendation | undefined> {
    await tick();
    const r = this.items.get(id);
    return r && structuredClone(r);
  }
  async transition(
    id: string,
    from: RecommendationStatus,
    to: RecommendationStatus,
    reason: string,
    now: Date,
    patch?: Partial<Recommendation>,
  ): Promise<TransitionResult> {
    await tick();
    const current = this.items.get(id);
    if (!current) throw new RecommendationNotFoundError(id);
    if (current.status === to && current.history.at(-1)?.from === from) {
      return { changed: false, recommendation: structuredClone(current) };
    }
    if (!canTransition(from, to) || current.status !== from) {
      throw new IllegalTransitionError(id, from, to, current.status);
    }
    const at = now.toISOString();
    const next: Recommendation = {
      ...current,
      ...patch,
      status: to,
      statusReason: reason,
      updatedAt: at,
      history: [...current.history, { from, to, at, reason }],
    };
    this.items.set(id, next);
    this.transitionsWritten++;
    return { changed: true, recommendation: structuredClone(next) };
  }
  async byStatusCreatedBetween(
    status: RecommendationStatus,
    from: Date,
    to: Date,
  ): Promise<Recommendation[]> {
    await tick();
    return [...this.items.values()]
      .filter(
        (r) => r.status === status && r.createdAt >= from.toISOString() && r.createdAt < to.toISOString(),
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
  async byStatusCreatedBefore(
    status: RecommendationStatus,
    before: Date,
    limit = 100,
  ): Promise<Recommendation[]> {
    await tick();
    return [...this.items.values()]
      .filter((r) => r.status === status && r.createdAt < before.toISOString())
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .slice(0, limit);
  }
}

export class InMemoryDecisions implements DecisionStore {
  readonly validations = new Map<string, Validation>();
  readonly riskDecisions = new Map<string, RiskDecision>();
  validationWrites = 0;

  async putValidation(v: Validation): Promise<{ created: boolean; validation: Validation }> {
    await tick();
    const existing = this.validations.get(v.recommendationId);
    if (existing) return { created: false, validation: structuredClone(existing) };
    this.validations.set(v.recommendationId, structuredClone(v));
    this.validationWrites++;
    return { created: true, validation: structuredClone(v) };
  }
  async getValidation(id: string): Promise<Validation | undefined> {
    await tick();
    const v = this.validations.get(id);
    return v && structuredClone(v);
  }
  async putRiskDecision(d: RiskDecision): Promise<{ created: boolean; decision: RiskDecision }> {
    await tick();
    const existing = this.riskDecisions.get(d.recommendationId);
    if (existing) return { created: false, decision: existing };
    this.riskDecisions.set(d.recommendationId, d);
    return { created: true, decision: d };
  }
  async getRiskDecision(id: string): Promise<RiskDecision | undefined> {
    await tick();
    return this.riskDecisions.get(id);
  }
}

export class InMemorySignals implements SignalStore {
  readonly items = new Map<string, Signal>();
  async putSignal(s: Signal): Promise<boolean> {
    await tick();
    if (this.items.has(s.signalId)) return false;
    this.items.set(s.signalId, s);
    return true;
  }
  async getSignal(id: string): Promise<Signal | undefined> {
    await tick();
    return this.items.get(id);
  }
  async signalsSince(since: Date): Promise<Signal[]> {
    await tick();
    return [...this.items.values()]
      .filter((s) => s.createdAt >= since.toISOString())
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
  async latestSignalsOfSymbol(symbol: string, limit: number): Promise<Signal[]> {
    await tick();
    return [...this.items.values()]
      .filter((s) => s.symbol === symbol)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit);
  }
  async markProcessed(id: string): Promise<void> {
    await tick();
    const s = this.items.get(id);
    if (s) this.items.set(id, { ...s, processed: true });
  }
}

export class InMemoryCandles implements CandleStore {
  readonly items = new Map<string, Candle>();
  private key(c: Pick<Candle, "symbol" | "granularity" | "start">) {
    return `${c.symbol}|${c.granularity}|${c.start}`;
  }
  private series(symbol: string, granularity: Granularity): Candle[] {
    return [...this.items.values()]
      .filter((c) => c.symbol === symbol && c.granularity === granularity)
      .sort((a, b) => a.start - b.start);
  }
  async putCandles(candles: readonly Candle[]): Promise<{ written: number }> {
    await tick();
    for (const c of candles) this.items.set(this.key(c), c);
    return { written: candles.length };
  }
  async latestCandles(symbol: string, granularity: Granularity, limit: number): Promise<Candle[]> {
    await tick();
    return this.series(symbol, granularity).slice(-limit);
  }
  async latestCandleStart(symbol: string, granularity: Granularity): Promise<number | undefined> {
    await tick();
    return this.series(symbol, granularity).at(-1)?.start;
  }
  async candlesBetween(symbol: string, granularity: Granularity, fromStart: number, toStart: number) {
    await tick();
    return this.series(symbol, granularity).filter((c) => c.start >= fromStart && c.start <= toStart);
  }
}

export class RecordingRiskQueue {
  readonly sent: RiskRequest[] = [];
  readonly send = async (message: RiskRequest): Promise<void> => {
    await tick();
    this.sent.push(message);
  };
}

export const silentLog = { info() {}, warn() {}, error() {} };
