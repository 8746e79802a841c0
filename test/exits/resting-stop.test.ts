import { describe, expect, it } from "vitest";
import type { ManagedPosition, PositionExit } from "#domain/schemas.js";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import {
  bookExitFill,
  exitStateOf,
  fillTotals,
  nextAttempt,
  openManagedPosition,
  pendingExits,
  unexitedBase,
} from "#exits/position-ledger.js";
import {
  newRestingExit,
  restingExit,
  restingExitIdFor,
  restingFailures,
  restingStopLagging,
  restingTerms,
} from "#exits/resting-stop.js";
import { orderRequestFor } from "#steps/execute-trade.js";

const T0 = new Date("2024-06-30T12:00:00.000Z");

function opened(): ManagedPosition {
  return openManagedPosition(
    { positionId: "rec-1", symbol: "ETH-USD", stopDistance: 0.02 },
    fillTotals([{ size: "0.2", price: "3000", commission: "3.6", tradeTime: T0.toISOString() }]),
    T0,
    DEFAULT_EXITS,
    3600,
  );
}

function withResting(p: ManagedPosition, outcome?: PositionExit["outcome"], at = T0): ManagedPosition {
  const exit = newRestingExit(
    p,
    p.stopLoss,
    restingTerms(p.stopLoss, "0.01", 0.05),
    p.quantity,
    at.toISOString(),
  );
  return { ...p, exits: [...p.exits, { ...exit, ...(outcome ? { outcome } : {}) }] };
}

describe("resting stop terms", () => {
  it("puts the stop up onto the price grid and the limit the offset under it, up onto the grid", () => {
    expect(restingTerms(2940.001, "0.01", 0.05)).toEqual({ stopPrice: "2940.01", limitPrice: "2793.01" });
    expect(restingTerms(2940, "0.01", 0.05)).toEqual({ stopPrice: "2940.00", limitPrice: "2793.00" });
    // a level a float's error above a grid line is on the line (as the backtest reads it)
    expect(restingTerms(0.1 + 0.2, "0.1", 0.5)).toEqual({ stopPrice: "0.3", limitPrice: "0.2" });
    expect(restingTerms(0.123456789, "0.00001", 0.01)).toEqual({
      stopPrice: "0.12346",
      limitPrice: "0.12223",
    });
  });

  it("names each placement of a position once, whatever the position id's length", () => {
    expect(restingExitIdFor("rec-1", 1)).toBe("exit-rec-1-RESTING_STOP-1");
    expect(restingExitIdFor("rec-1", 2)).not.toBe(restingExitIdFor("rec-1", 1));
    const long = "x".repeat(400);
    expect(restingExitIdFor(long, 3)).toBe(restingExitIdFor(long, 3));
    expect(restingExitIdFor(long, 3).length).toBeLessThanOrEqual(200);
    expect(restingExitIdFor(long, 3)).toMatch(/-RESTING_STOP-3$/);
  });

  it("replaces only once the stop in force is 0.5R above the resting stop", () => {
    const p = withResting(opened());
    const live = restingExit(p)!;
    const stop = Number(live.resting!.stopPrice);
    expect(restingStopLagging(live, stop + 0.49 * p.riskPerUnit, p.riskPerUnit)).toBe(false);
    expect(restingStopLagging(live, stop + 0.5 * p.riskPerUnit, p.riskPerUnit)).toBe(true);
  });
});

describe("a resting stop in the position's ledger", () => {
  it("is not an exit in flight: the position's whole quantity is still the policy's, and market attempts count without it", () => {
    const p = withResting(opened());
    expect(restingExit(p)?.exitId).toBe("exit-rec-1-RESTING_STOP-1");
    expect(pendingExits(p)).toEqual([]);
    expect(unexitedBase(p).toFixed()).toBe(p.quantity);
    expect(exitStateOf(p).quantity).toBe(Number(p.quantity));
    expect(nextAttempt(p, "STOP_LOSS", 0)).toBe(1);
    // the next placement counts up
    expect(
      newRestingExit(p, p.stopLoss, restingTerms(p.stopLoss, "0.01", 0.05), "0.2", T0.toISOString()).exitId,
    ).toBe("exit-rec-1-RESTING_STOP-2");
  });

  it("filled: booked as the STOP_LOSS that closed the position; nothing filled: CANCELLED, not a failure", () => {
    const p = withResting(opened());
    const id = restingExit(p)!.exitId;
    const filled = bookExitFill(
      p,
      id,
      fillTotals([{ size: "0.2", price: "2940", commission: "3.528", tradeTime: T0.toISOString() }]),
      "0.0001",
      T0,
    );
    expect(filled).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(filled.exits[0]).toMatchObject({ reason: "STOP_LOSS", outcome: "FILLED", filledBase: "0.2" });
    expect(filled.realizedPnlUsd).toBeCloseTo(0.2 * 2940 - 3.528 - (600 + 3.6), 9);

    const cancelled = bookExitFill(p, id, fillTotals([]), "0.0001", T0);
    expect(cancelled).toMatchObject({ status: "OPEN", quantity: p.quantity });
    expect(cancelled.exits[0]?.outcome).toBe("CANCELLED");
    expect(restingExit(cancelled)).toBeUndefined();
    expect(restingFailures(cancelled)).toBe(0);
  });

  it("counts refused placements since the last operator clear", () => {
    let p = withResting(withResting(opened(), "FAILED"), "FAILED");
    expect(restingFailures(p)).toBe(2);
    p = { ...p, failuresClearedAt: new Date(T0.getTime() + 1).toISOString() };
    expect(restingFailures(p)).toBe(0);
  });
});

describe("the executor's order for a resting stop", () => {
  const rules = {
    productId: "ETH-USD",
    baseIncrement: "0.00000001",
    quoteIncrement: "0.01",
    priceIncrement: "0.01",
    baseMinSize: "0.00000001",
    baseMaxSize: "1000",
    quoteMinSize: "1",
    quoteMaxSize: "1000000",
    tradable: true,
    limitOnly: false,
    postOnly: false,
  };

  it("is a STOP_LIMIT SELL of the approved base, capped at what is held, on the base grid", () => {
    const approved = {
      symbol: "ETH-USD",
      side: "SELL" as const,
      baseSize: "0.2",
      stopPrice: "2940.00",
      limitPrice: "2793.00",
    };
    expect(orderRequestFor(approved, rules, "0.123456789123", "tp-x")).toEqual({
      clientOrderId: "tp-x",
      productId: "ETH-USD",
      side: "SELL",
      type: "STOP_LIMIT",
      baseSize: "0.12345678",
      stopPrice: "2940.00",
      limitPrice: "2793.00",
    });
    expect(orderRequestFor(approved, rules, "5", "tp-x")).toMatchObject({
      type: "STOP_LIMIT",
      baseSize: "0.20000000",
    });
    const { stopPrice: _s, limitPrice: _l, ...market } = approved;
    expect(orderRequestFor(market, rules, "5", "tp-x")).toMatchObject({ type: "MARKET" });
  });
});
