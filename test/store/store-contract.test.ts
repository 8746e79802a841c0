/**
 * The finer rules of the store ports, pinned on both implementations (DynamoDB on the local
 * cloud, memory): counters and reservations, the never-placed refusal, index bounds and orders,
 * and that what a store hands out is a copy.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Order } from "#domain/schemas.js";
import type { Stores } from "#store/ports.js";
import { managedPosition, recommendation, signal } from "./fixtures.js";
import { STORE_IMPLEMENTATIONS } from "./implementations.js";

const AT = "2024-06-30T12:00:00.000Z";

function order(overrides: Partial<Order> = {}): Order {
  return {
    clientOrderId: "co-x",
    orderId: "",
    recommendationId: "r-x",
    venue: "paper",
    symbol: "BTC-USD",
    side: "BUY",
    type: "MARKET",
    quoteSize: "100",
    status: "PENDING",
    filledSize: "0",
    averageFilledPrice: "0",
    filledValue: "0",
    totalFees: "0",
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

describe.each(STORE_IMPLEMENTATIONS)("store contract details ($name)", (implementation) => {
  let stores: Stores;
  beforeAll(async () => {
    stores = await implementation.fresh("store-contract");
  });

  it("validation slots: at most `max` per cycle, a release gives one back, never below zero", async () => {
    const r = stores.recommendations;
    expect(await r.reserveValidationSlot("c-1", 2)).toBe(true);
    expect(await r.reserveValidationSlot("c-1", 2)).toBe(true);
    expect(await r.reserveValidationSlot("c-1", 2)).toBe(false);
    expect(await r.reserveValidationSlot("c-2", 2)).toBe(true); // cycles are counted apart
    await r.releaseValidationSlot("c-1");
    expect(await r.reserveValidationSlot("c-1", 2)).toBe(true);
    expect(await r.reserveValidationSlot("c-1", 2)).toBe(false);
    await r.releaseValidationSlot("c-never"); // nothing to give back: a no-op
    for (let i = 0; i < 4; i++) await r.releaseValidationSlot("c-2");
    expect(await r.reserveValidationSlot("c-2", 1)).toBe(true);
    expect(await r.reserveValidationSlot("c-2", 1)).toBe(false);
  });

  it("recommendation windows: BETWEEN holds both ends; before excludes the cut-off, oldest first, limited", async () => {
    const times = ["2024-06-29T10:00:00.000Z", "2024-06-29T11:00:00.000Z", "2024-06-29T12:00:00.000Z"];
    for (const [i, createdAt] of times.entries())
      await stores.recommendations.create(
        recommendation({ recommendationId: `win-${i}`, createdAt, status: "QUEUED" }),
      );
    const between = await stores.recommendations.byStatusCreatedBetween(
      "QUEUED",
      new Date(times[0]),
      new Date(times[2]),
    );
    expect(between.map((r) => r.recommendationId)).toEqual(["win-2", "win-1", "win-0"]);
    const before = await stores.recommendations.byStatusCreatedBefore("QUEUED", new Date(times[2]));
    expect(before.map((r) => r.recommendationId)).toEqual(["win-0", "win-1"]);
    const limited = await stores.recommendations.byStatusCreatedBefore("QUEUED", new Date(times[2]), 1);
    expect(limited.map((r) => r.recommendationId)).toEqual(["win-0"]);
    // a transition moves it from one status's index to the other's
    await stores.recommendations.transition("win-0", "QUEUED", "CANCELLED", "operator", new Date(AT));
    const queued = await stores.recommendations.byStatusCreatedBefore("QUEUED", new Date(times[2]));
    expect(queued.map((r) => r.recommendationId)).toEqual(["win-1"]);
    const cancelled = await stores.recommendations.byStatusCreatedBetween(
      "CANCELLED",
      new Date(times[0]),
      new Date(times[0]),
    );
    expect(cancelled.map((r) => [r.recommendationId, r.statusReason])).toEqual([["win-0", "operator"]]);
  });

  it("a transition needs a reason; a patch leaves fields it does not name", async () => {
    await stores.recommendations.create(recommendation({ recommendationId: "patch-1", stopLoss: 59_000 }));
    await expect(
      stores.recommendations.transition("patch-1", "PENDING", "QUEUED", "  ", new Date(AT)),
    ).rejects.toThrow(/needs a reason/);
    const moved = await stores.recommendations.transition(
      "patch-1",
      "PENDING",
      "QUEUED",
      "top",
      new Date(AT),
      {
        takeProfit: 64_000,
        stopLoss: undefined,
      },
    );
    expect(moved.recommendation).toMatchObject({ stopLoss: 59_000, takeProfit: 64_000, updatedAt: AT });
    expect(moved.recommendation.history).toEqual([{ from: "PENDING", to: "QUEUED", at: AT, reason: "top" }]);
  });

  it("reservations: one per recommendation, and only its creation counts a trade of the day", async () => {
    const reservation = (recommendationId: string) => ({
      recommendationId,
      symbol: "BTC-USD",
      side: "BUY" as const,
      amountUsd: 50,
      createdAt: AT,
    });
    await stores.portfolio.recordApproval(reservation("res-b"), "2024-06-30");
    await stores.portfolio.recordApproval(reservation("res-b"), "2024-06-30");
    await stores.portfolio.recordApproval(reservation("res-a"), "2024-06-30");
    expect(await stores.portfolio.approvalsOn("2024-06-30")).toBe(2);
    expect(await stores.portfolio.approvalsOn("2024-07-01")).toBe(0);
    expect((await stores.portfolio.reservations()).map((r) => r.recommendationId)).toEqual([
      "res-a",
      "res-b",
    ]);
    await stores.portfolio.releaseReservation("res-b");
    await stores.portfolio.releaseReservation("res-never");
    expect(await stores.portfolio.reservations()).toEqual([reservation("res-a")]);
    // released, then approved again: a new reservation, counted again
    await stores.portfolio.recordApproval(reservation("res-b"), "2024-06-30");
    expect(await stores.portfolio.approvalsOn("2024-06-30")).toBe(3);
  });

  it("failOrderIfUnplaced: only a PENDING order with no exchange id; it leaves the open orders", async () => {
    await stores.orders.putOrderIfAbsent(order({ clientOrderId: "unplaced" }));
    await stores.orders.putOrderIfAbsent(
      order({ clientOrderId: "placed", orderId: "ex-9", createdAt: "2024-06-30T11:00:00.000Z" }),
    );
    const now = new Date("2024-06-30T12:05:00.000Z");
    const failed = await stores.orders.failOrderIfUnplaced("unplaced", "venue down", now);
    expect(failed).toEqual({
      changed: true,
      order: {
        ...order({ clientOrderId: "unplaced" }),
        status: "FAILED",
        failureReason: "venue down",
        reconciled: true,
        updatedAt: now.toISOString(),
      },
    });
    expect(await stores.orders.failOrderIfUnplaced("unplaced", "again", now)).toMatchObject({
      changed: false,
      order: { status: "FAILED", failureReason: "venue down" },
    });
    expect(await stores.orders.failOrderIfUnplaced("placed", "venue down", now)).toMatchObject({
      changed: false,
      order: { status: "PENDING", orderId: "ex-9" },
    });
    expect(await stores.orders.failOrderIfUnplaced("missing", "x", now)).toEqual({
      changed: false,
      order: undefined,
    });
    expect((await stores.orders.openOrders()).map((o) => o.clientOrderId)).toEqual(["placed"]);
    await expect(stores.orders.updateOrder(order({ clientOrderId: "never-created" }))).rejects.toThrow();
    expect(await stores.orders.getOrder("never-created")).toBeUndefined();
  });

  it("open orders come oldest first across venues", async () => {
    await stores.orders.putOrderIfAbsent(
      order({
        clientOrderId: "cb-early",
        venue: "coinbase",
        orderId: "e1",
        status: "OPEN",
        createdAt: "2024-06-30T09:00:00.000Z",
      }),
    );
    const ids = (await stores.orders.openOrders()).map((o) => o.clientOrderId);
    expect(ids).toEqual(["cb-early", "placed"]);
  });

  it("signals: `since` itself is in, a moment before is out; marking a missing signal fails", async () => {
    const now = new Date("2024-06-28T12:20:00.000Z");
    const since = new Date("2024-06-28T11:20:00.000Z");
    await stores.signals.putSignal(
      signal({ signalId: "edge-in", createdAt: since.toISOString(), symbol: "ADA-USD" }),
    );
    await stores.signals.putSignal(
      signal({ signalId: "edge-out", createdAt: "2024-06-28T11:19:59.999Z", symbol: "ADA-USD" }),
    );
    await stores.signals.putSignal(
      signal({ signalId: "edge-next-hour", createdAt: "2024-06-28T13:00:00.000Z", symbol: "ADA-USD" }),
    );
    const ids = (await stores.signals.signalsSince(since, now)).map((s) => s.signalId);
    expect(ids).toContain("edge-in");
    expect(ids).not.toContain("edge-out");
    expect(ids).not.toContain("edge-next-hour"); // a later hour than `now` is not read
    expect((await stores.signals.latestSignalsOfSymbol("ADA-USD", 5)).map((s) => s.signalId)).toEqual([
      "edge-next-hour",
      "edge-in",
      "edge-out",
    ]);
    await expect(stores.signals.markProcessed("no-such-signal")).rejects.toThrow();
  });

  it("kill switch: a trip carries its kind and resume time; the audit trail is newest first and limited", async () => {
    const tripped = await stores.killSwitch.set(
      true,
      "portfolio",
      "daily loss 5%",
      new Date("2024-06-30T15:00:00.000Z"),
      { kind: "DAILY_LOSS", resumeAt: new Date("2024-07-01T00:00:00.000Z") },
    );
    expect(tripped).toMatchObject({ kind: "DAILY_LOSS", resumeAt: "2024-07-01T00:00:00.000Z" });
    const resumed = await stores.killSwitch.set(
      false,
      "alice",
      "resume",
      new Date("2024-07-01T08:00:00.000Z"),
      { kind: "DAILY_LOSS", resumeAt: undefined },
      { peakResetAt: new Date("2024-07-01T08:00:00.000Z") },
    );
    expect(resumed).toEqual({
      active: false,
      changedBy: "alice",
      reason: "resume",
      changedAt: "2024-07-01T08:00:00.000Z",
      peakResetAt: "2024-07-01T08:00:00.000Z",
    });
    expect(await stores.killSwitch.get()).toEqual(resumed);
    expect((await stores.killSwitch.auditTrail(1)).map((k) => k.changedBy)).toEqual(["alice"]);
  });

  it("what a store hands out is a copy: changing it changes nothing stored", async () => {
    await stores.recommendations.create(recommendation({ recommendationId: "copy-1" }));
    const got = await stores.recommendations.get("copy-1");
    got!.history.push({ from: "PENDING", to: "QUEUED", at: AT, reason: "x" });
    got!.status = "EXECUTED";
    expect(await stores.recommendations.get("copy-1")).toMatchObject({ status: "PENDING", history: [] });
    const p = managedPosition({ positionId: "copy-mp" });
    const opened = await stores.managedPositions.open(p);
    opened.position.takeProfits[0].price = 1;
    p.takeProfits[1].price = 2;
    expect((await stores.managedPositions.get("copy-mp"))?.takeProfits.map((t) => t.price)).toEqual([
      61_200, 62_400,
    ]);
  });

  it("a position reopened by a repeated open after a crash is watched again; an update never adds the marker", async () => {
    const p = managedPosition({ positionId: "mp-marker" });
    await stores.managedPositions.open(p);
    expect(await stores.managedPositions.update({ ...p, status: "CLOSED", quantity: "0" }, 0)).toBe(true);
    // an update back to OPEN does not put the marker back (only open() does)
    expect(await stores.managedPositions.update({ ...p, status: "OPEN", version: 1 }, 1)).toBe(true);
    expect((await stores.managedPositions.openPositions()).map((x) => x.positionId)).not.toContain(
      "mp-marker",
    );
    await stores.managedPositions.open(p);
    expect((await stores.managedPositions.openPositions()).map((x) => x.positionId)).toContain("mp-marker");
  });
});
