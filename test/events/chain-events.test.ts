/**
 * What each stage publishes, built from its own report: only what it stored this run, ids only,
 * and each event valid by its schema.
 */
import { describe, expect, it } from "vitest";
import { DomainEvent } from "#domain/events.js";
import {
  candlesClosedEvents,
  killSwitchChangedEvents,
  llmDecidedEvents,
  orderPlacedEvents,
  reconcileEvents,
  riskDecidedEvents,
  signalsWrittenEvents,
} from "#steps/chain-events.js";

const at = new Date("2024-04-14T12:00:05.000Z");
const valid = (events: unknown[]) => events.map((e) => DomainEvent.parse(e));

describe("chain events", () => {
  it("CandlesClosed names the symbols that stored new closed candles and the newest closed candle", () => {
    const events = candlesClosedEvents(
      [
        { symbol: "BTC-USD", ok: true, from: 0, to: 1, fetched: 1, written: 1, gaps: [] },
        { symbol: "ETH-USD", ok: true, from: 0, to: 1, fetched: 0, written: 0, gaps: [] },
        { symbol: "SOL-USD", ok: false, fetched: 0, written: 0, gaps: [], error: "x" },
      ],
      "ONE_HOUR",
      at,
    );
    expect(valid(events)).toEqual([
      {
        type: "CandlesClosed",
        occurredAt: at.toISOString(),
        granularity: "ONE_HOUR",
        candleStart: Date.parse("2024-04-14T11:00:00Z") / 1000,
        symbols: ["BTC-USD"],
      },
    ]);
    expect(
      candlesClosedEvents(
        [{ symbol: "BTC-USD", ok: true, from: 0, to: 1, fetched: 0, written: 0, gaps: [] }],
        "ONE_HOUR",
        at,
      ),
    ).toEqual([]);
  });

  it("SignalsWritten carries the ids this run wrote, and nothing when it wrote none", () => {
    const report = {
      signals: [],
      written: 2,
      writtenIds: ["a", "b"],
      skipped: [],
      failed: [],
      inferenceMs: 0,
    };
    expect(valid(signalsWrittenEvents(report, at))).toEqual([
      { type: "SignalsWritten", occurredAt: at.toISOString(), signalIds: ["a", "b"] },
    ]);
    expect(signalsWrittenEvents({ ...report, written: 0, writtenIds: [] }, at)).toEqual([]);
  });

  it("RecommendationDecided for a decision stored now, none for a redelivery", () => {
    const decision = {} as never;
    expect(valid(riskDecidedEvents("rec-1", { outcome: "refused", decision }, at))).toEqual([
      {
        type: "RecommendationDecided",
        occurredAt: at.toISOString(),
        recommendationId: "rec-1",
        by: "risk",
        approved: false,
      },
    ]);
    expect(riskDecidedEvents("rec-1", { outcome: "approved", decision }, at)[0]).toMatchObject({
      approved: true,
    });
    expect(riskDecidedEvents("rec-1", { outcome: "already-done", status: "EXECUTED" }, at)).toEqual([]);
  });

  it("RecommendationDecided by the LLM for a verdict stored now, none when a stored one was reused", () => {
    expect(valid(llmDecidedEvents("rec-1", { outcome: "rejected", reusedValidation: false }, at))).toEqual([
      {
        type: "RecommendationDecided",
        occurredAt: at.toISOString(),
        recommendationId: "rec-1",
        by: "llm",
        approved: false,
      },
    ]);
    expect(llmDecidedEvents("rec-1", { outcome: "approved", reusedValidation: true }, at)).toEqual([]);
    expect(llmDecidedEvents("rec-1", { outcome: "resent" }, at)).toEqual([]);
  });

  it("OrderPlaced once the venue accepted, none for a redelivery or a failure", () => {
    const order = { clientOrderId: "cid-1", orderId: "ord-1" } as never;
    expect(valid(orderPlacedEvents("rec-1", { outcome: "executed", order }, at))).toEqual([
      {
        type: "OrderPlaced",
        occurredAt: at.toISOString(),
        recommendationId: "rec-1",
        clientOrderId: "cid-1",
        orderId: "ord-1",
      },
    ]);
    expect(orderPlacedEvents("rec-1", { outcome: "already-done", status: "EXECUTED" }, at)).toEqual([]);
    expect(orderPlacedEvents("rec-1", { outcome: "failed", reason: "x" }, at)).toEqual([]);
  });

  it("a portfolio run: one OrderFilled per order, positions opened and closed, the kill switch tripped", () => {
    const fill = (orderId: string, tradeId: string) => ({ orderId, clientOrderId: `c-${orderId}`, tradeId });
    const position = (positionId: string, status: string) => ({ positionId, symbol: "BTC-USD", status });
    const report = {
      newFills: [fill("o1", "t1"), fill("o1", "t2"), fill("o2", "t3")],
      managedPositions: [
        { kind: "opened", position: position("p1", "OPEN") },
        { kind: "exit-booked", position: position("p2", "OPEN"), exitId: "e1" },
        { kind: "exit-booked", position: position("p3", "CLOSED"), exitId: "e2" },
        { kind: "unprotected", positionId: "p4", symbol: "BTC-USD", reason: "no stop" },
      ],
      killSwitchTripped: "daily loss",
    } as never;
    const occurredAt = at.toISOString();
    expect(valid(reconcileEvents(report, at))).toEqual([
      { type: "OrderFilled", occurredAt, orderId: "o1", clientOrderId: "c-o1" },
      { type: "OrderFilled", occurredAt, orderId: "o2", clientOrderId: "c-o2" },
      { type: "PositionOpened", occurredAt, positionId: "p1", symbol: "BTC-USD" },
      { type: "PositionClosed", occurredAt, positionId: "p3", symbol: "BTC-USD" },
      { type: "KillSwitchChanged", occurredAt, active: true },
    ]);
    const resumed = {
      newFills: [],
      managedPositions: [],
      killSwitchResumed: "2024-04-15T00:00:00Z",
    } as never;
    expect(reconcileEvents(resumed, at)).toEqual([{ type: "KillSwitchChanged", occurredAt, active: false }]);
  });

  it("KillSwitchChanged after an operator's command", () => {
    expect(valid(killSwitchChangedEvents(true, at))).toEqual([
      { type: "KillSwitchChanged", occurredAt: at.toISOString(), active: true },
    ]);
  });
});
