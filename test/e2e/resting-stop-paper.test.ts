/**
 * The resting stop on the paper venue, through the live chain: the paper venue rests the STOP_LIMIT
 * and fills it when a candle's low reaches it, the portfolio step books it; a venue that keeps
 * refusing the stop gets MAX_RESTING_STOP_FAILURES placements and then none.
 */
import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { clientOrderIdFor } from "#steps/execute-trade.js";
import { exitChain } from "./exits-support.js";

const HOUR = 3_600_000;
const ENTRY = 150;

describe("the resting stop on the paper venue", () => {
  it("rests after the entry and fills on a candle whose low reaches it, while the manager never ran: booked as STOP_LOSS on restart, one SELL", async () => {
    const chain = await exitChain("rest-paper", {}, { restingStops: true });
    const position = await chain.enter("rp-1", "SOL-USD", 500, ENTRY);
    const placed = await chain.cycle();
    expect(placed.restingStopsPlaced).toHaveLength(1);
    const stopId = placed.restingStopsPlaced[0]!.exitId;
    const order = await chain.stores.orders.getOrder(clientOrderIdFor(stopId));
    expect(order).toMatchObject({ type: "STOP_LIMIT", side: "SELL", status: "OPEN" });
    expect(Number(order!.stopPrice)).toBeGreaterThanOrEqual(position.stopLoss);
    expect(Number(order!.stopPrice)).toBeLessThan(position.stopLoss + 0.01 + 1e-9);
    // the base is on hold for the stop: nothing else can sell it
    const sol = (await chain.exchange.getBalances()).SOL!;
    expect(new Decimal(sol.hold).toFixed()).toBe(order!.baseSize);

    // an hour's candle dips through the stop and closes back above it; the manager is down
    chain.advance(HOUR);
    await chain.price("SOL-USD", ENTRY, position.stopLoss * 0.995);
    await chain.reconcile();
    const closed = await chain.position("rp-1");
    expect(closed).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(closed!.exits.find((e) => e.exitId === stopId)).toMatchObject({
      reason: "STOP_LOSS",
      outcome: "FILLED",
    });
    expect(closed!.realizedPnlUsd).toBeLessThan(0);

    // the manager's next run sells nothing: the one SELL is the stop
    await chain.cycle();
    expect((await chain.sells()).map((r) => r.recommendationId)).toEqual([stopId]);
  });

  it("a stop the venue keeps refusing is placed 3 times, then no more until an operator's retry-exits; the position's own exits still work", async () => {
    const chain = await exitChain("rest-paper-refused", {}, { restingStops: true });
    const position = await chain.enter("rp-2", "SOL-USD", 500, ENTRY);
    // the coins left the account: every stop of the position is refused (nothing to hold)
    await chain.adjustPaperBalance("SOL", new Decimal(position.quantity).neg());
    for (let i = 0; i < 5; i++) {
      chain.advance(60_000);
      await chain.cycle();
    }
    const after = await chain.position("rp-2");
    const resting = after!.exits.filter((e) => e.resting !== undefined);
    expect(resting.map((e) => e.outcome)).toEqual(["FAILED", "FAILED", "FAILED"]);
    expect(after).toMatchObject({ status: "OPEN" });
    expect(after!.needsOperator).toBeUndefined();

    // the coins are back; an operator's retry-exits places the stop again, and list shows it
    await chain.adjustPaperBalance("SOL", new Decimal(position.quantity));
    const retried = await chain.command({
      action: "retry-exits",
      positionId: "rp-2",
      by: "ops",
      reason: "coins back",
    });
    expect(retried).toMatchObject({ outcome: "hold-cleared" });
    await chain.deliverAll();
    const listed = await chain.command({ action: "list" });
    const line = "positions" in listed ? listed.positions.find((p) => p.positionId === "rp-2") : undefined;
    expect(line?.restingStop?.exitId).toBe("exit-rp-2-RESTING_STOP-4");
    expect((await chain.stores.recommendations.get("exit-rp-2-RESTING_STOP-4"))?.status).toBe("EXECUTED");

    // and the position's stop sells what is there once the bid crosses it: the resting stop cancelled first
    chain.advance(HOUR);
    await chain.price("SOL-USD", position.stopLoss * 0.99);
    const report = await chain.cycle();
    expect(report.issued.map((e) => e.label)).toEqual(["STOP_LOSS"]);
    expect(report.restingStopsCancelled).toEqual(["exit-rp-2-RESTING_STOP-4"]);
    expect((await chain.position("rp-2"))?.status).toBe("CLOSED");
  });
});
