/**
 * The cap on refused exits (exits/exit-attempts.ts): failures are counted per reason and leg since
 * the last clear; past the cap the position is held for an operator, never while an exit is pending.
 */
import { describe, expect, it } from "vitest";
import type { ManagedPosition, PositionExit } from "#domain/schemas.js";
import { clearOperatorHold, failedAttempts, operatorHoldOf } from "#exits/exit-attempts.js";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import { fillTotals, openManagedPosition } from "#exits/position-ledger.js";

const T0 = new Date("2024-06-30T12:00:00.000Z");
const minute = (n: number) => new Date(T0.getTime() + n * 60_000);

function opened(): ManagedPosition {
  return openManagedPosition(
    { positionId: "p", symbol: "ETH-USD", stopDistance: 0.02 },
    fillTotals([{ size: "0.2", price: "3000", commission: "1", tradeTime: T0.toISOString() }]),
    T0,
    DEFAULT_EXITS,
    3600,
  );
}

function exit(
  reason: PositionExit["reason"],
  leg: number,
  at: number,
  outcome?: "FAILED" | "FILLED",
): PositionExit {
  return {
    exitId: `x-${reason}-${leg}-${at}`,
    reason,
    leg,
    baseSize: "0.1",
    triggerPrice: 2900,
    at: minute(at).toISOString(),
    ...(outcome ? { outcome } : {}),
  };
}

describe("refused exits and the operator hold", () => {
  it("counts failures per reason and leg; the cap holds the position once one of them reaches it", () => {
    const p = {
      ...opened(),
      exits: [
        exit("TAKE_PROFIT", 1, 1, "FAILED"),
        exit("STOP_LOSS", 0, 2, "FAILED"),
        exit("TAKE_PROFIT", 1, 3, "FAILED"),
        exit("TAKE_PROFIT", 2, 4, "FAILED"),
      ],
    };
    expect(failedAttempts(p, "TAKE_PROFIT", 1)).toBe(2);
    expect(failedAttempts(p, "TAKE_PROFIT", 2)).toBe(1);
    expect(operatorHoldOf(p, 3, minute(5))).toBeUndefined();
    const held = operatorHoldOf(p, 2, minute(5));
    expect(held).toMatchObject({
      newlyHeld: true,
      hold: { reason: "TAKE_PROFIT", leg: 1, failedAttempts: 2, since: minute(5).toISOString() },
    });
    expect(held?.position.needsOperator).toEqual(held?.hold);
    // already held: reported, not newly
    expect(operatorHoldOf(held!.position, 2, minute(6))).toMatchObject({
      newlyHeld: false,
      hold: held?.hold,
    });
  });

  it("waits for a pending exit's outcome before holding", () => {
    const p = { ...opened(), exits: [exit("STOP_LOSS", 0, 1, "FAILED"), exit("STOP_LOSS", 0, 2)] };
    expect(operatorHoldOf(p, 1, minute(3))).toBeUndefined();
  });

  it("a cleared hold no longer counts the failures before it; new ones count again", () => {
    const held = operatorHoldOf({ ...opened(), exits: [exit("STOP_LOSS", 0, 1, "FAILED")] }, 1, minute(2))!;
    const cleared = clearOperatorHold(held.position, minute(3));
    expect(cleared.needsOperator).toBeUndefined();
    expect(cleared.failuresClearedAt).toBe(minute(3).toISOString());
    expect(operatorHoldOf(cleared, 1, minute(4))).toBeUndefined();
    const failedAgain = { ...cleared, exits: [...cleared.exits, exit("STOP_LOSS", 0, 4, "FAILED")] };
    expect(operatorHoldOf(failedAgain, 1, minute(5))?.hold).toMatchObject({
      reason: "STOP_LOSS",
      failedAttempts: 1,
    });
  });
});
