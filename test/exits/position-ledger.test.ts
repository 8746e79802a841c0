import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import type { ManagedPosition, PositionExit } from "#domain/schemas.js";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import {
  bookExitFailure,
  bookExitFill,
  exitBaseSize,
  exitIdFor,
  exitStateOf,
  fillTotals,
  nextAttempt,
  openManagedPosition,
  stopDistanceOf,
} from "#exits/position-ledger.js";

const T0 = new Date("2024-06-30T12:00:00.000Z");
const fills = (size: string, price: string, fee: string) =>
  fillTotals([{ size, price, commission: fee, tradeTime: T0.toISOString() }]);

function opened(): ManagedPosition {
  return openManagedPosition(
    { positionId: "rec-1", symbol: "ETH-USD", stopDistance: 0.02 },
    fillTotals([
      { size: "0.1", price: "3000", commission: "1.8", tradeTime: "2024-06-30T11:59:00.000Z" },
      { size: "0.1", price: "3010", commission: "1.806", tradeTime: "2024-06-30T11:59:30.000Z" },
    ]),
    T0,
    DEFAULT_EXITS,
    3600,
  );
}

function withExit(
  p: ManagedPosition,
  exit: Partial<PositionExit> & Pick<PositionExit, "exitId" | "baseSize">,
): ManagedPosition {
  return {
    ...p,
    exits: [...p.exits, { reason: "STOP_LOSS", leg: 0, triggerPrice: 2900, at: T0.toISOString(), ...exit }],
  };
}

describe("position ledger", () => {
  it("opens from the fills: average price, filled base, cost with fees, the stop and ladder in R, the time limit", () => {
    const p = opened();
    expect(p.entryPrice).toBe(3005);
    expect(p.entryQuantity).toBe("0.2");
    expect(p.entryCostUsd).toBeCloseTo(601 + 3.606, 9);
    expect(p.riskPerUnit).toBeCloseTo(60.1, 9);
    expect(p.stopLoss).toBeCloseTo(2944.9, 9);
    expect(p.takeProfits.map((t) => t.price)).toEqual([3065.1, 3125.2].map((x) => expect.closeTo(x, 9)));
    expect(p.expiresAt).toBe("2024-07-01T00:00:00.000Z");
    expect(p).toMatchObject({ status: "OPEN", version: 0, exits: [], realizedPnlUsd: 0 });
  });

  it("a stop distance comes from the approved stop, and a missing or wrong one is said, not invented", () => {
    expect(stopDistanceOf({ entryPrice: 100, stopLoss: 97 })).toBeCloseTo(0.03, 12);
    expect(stopDistanceOf({ entryPrice: 100 })).toMatch(/without a stop-loss/);
    expect(stopDistanceOf({ entryPrice: 100, stopLoss: 100 })).toMatch(/not below the entry price/);
  });

  it("exit ids: deterministic per position, reason and leg; a re-issue counts up; long ids are hashed", () => {
    expect(exitIdFor("rec-1", "STOP_LOSS", 0)).toBe("exit-rec-1-STOP_LOSS");
    expect(exitIdFor("rec-1", "TAKE_PROFIT", 2)).toBe("exit-rec-1-TAKE_PROFIT_2");
    expect(exitIdFor("rec-1", "TAKE_PROFIT", 2, 3)).toBe("exit-rec-1-TAKE_PROFIT_2-3");
    const long = exitIdFor("r".repeat(400), "TIME_LIMIT", 0);
    expect(long.length).toBeLessThanOrEqual(200);
    expect(long).toMatch(/^exit-[0-9a-f]{32}-TIME_LIMIT$/);
    expect(exitIdFor("r".repeat(400), "TIME_LIMIT", 0)).toBe(long);
  });

  it("the policy sees only the base no pending exit is selling", () => {
    const p = withExit(opened(), { exitId: "e1", reason: "TAKE_PROFIT", leg: 1, baseSize: "0.1" });
    expect(exitStateOf(p).quantity).toBeCloseTo(0.1, 12);
    expect(exitBaseSize(p, 0.1, true)).toBe("0.1");
    expect(exitBaseSize(p, 0.30000000000000004, false)).toBe("0.1");
  });

  it("books a partial exit: quantity down, P&L against the entry cost share, still OPEN", () => {
    const p = withExit(opened(), { exitId: "e1", reason: "TAKE_PROFIT", leg: 1, baseSize: "0.1" });
    const next = bookExitFill(p, "e1", fills("0.1", "3100", "1.86"), "0.00000001", T0);
    expect(next.quantity).toBe("0.1");
    const pnl = 310 - 1.86 - (601 + 3.606) / 2;
    expect(next.realizedPnlUsd).toBeCloseTo(pnl, 9);
    expect(next.exits[0]).toMatchObject({ outcome: "FILLED", filledBase: "0.1", averagePrice: 3100 });
    expect(next.status).toBe("OPEN");
    // booking the same exit again changes nothing
    expect(bookExitFill(next, "e1", fills("0.1", "3100", "1.86"), "0.00000001", T0)).toBe(next);
  });

  it("closes when nothing is left, or only dust below the product's minimum size", () => {
    const whole = withExit({ ...opened(), status: "CLOSING" }, { exitId: "e1", baseSize: "0.2" });
    const closed = bookExitFill(whole, "e1", fills("0.2", "2940", "3.5"), "0.00000001", T0);
    expect(closed).toMatchObject({ status: "CLOSED", quantity: "0", closedAt: T0.toISOString() });
    const dust = bookExitFill(whole, "e1", fills("0.1995", "2940", "3.5"), "0.001", T0);
    expect(dust).toMatchObject({ status: "CLOSED", quantity: "0.0005" });
    const notDust = bookExitFill(whole, "e1", fills("0.1", "2940", "3.5"), "0.001", T0);
    expect(notDust).toMatchObject({ status: "OPEN", quantity: "0.1" });
  });

  it("never books more sold than held", () => {
    const p = withExit(opened(), { exitId: "e1", baseSize: "0.2" });
    const next = bookExitFill(p, "e1", fills("0.3", "3000", "0"), "0.00000001", T0);
    expect(new Decimal(next.quantity).gte(0)).toBe(true);
    expect(next.exits[0]?.filledBase).toBe("0.2");
  });

  it("a failed exit puts the position back to OPEN, the next attempt gets a new id, a failed leg is taken again", () => {
    let p = opened();
    p = { ...p, targetsHit: 1, exits: [] };
    p = withExit(p, {
      exitId: exitIdFor("rec-1", "TAKE_PROFIT", 1),
      reason: "TAKE_PROFIT",
      leg: 1,
      baseSize: "0.1",
    });
    const failed = bookExitFailure(p, exitIdFor("rec-1", "TAKE_PROFIT", 1), "0.00000001", T0);
    expect(failed.exits[0]?.outcome).toBe("FAILED");
    expect(failed.targetsHit).toBe(0);
    expect(failed.status).toBe("OPEN");
    expect(nextAttempt(failed, "TAKE_PROFIT", 1)).toBe(2);
    expect(exitStateOf(failed).quantity).toBeCloseTo(0.2, 12);
  });
});
