/**
 * Every exit reason through the live chain (position manager → execution queue → executor → paper
 * venue → portfolio step), on the local cloud: one SELL per exit, sized to what is held, the P&L
 * booked on the managed position, and nothing (kill switch, drawdown, trade count, price band)
 * blocking a protective exit.
 */
import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { clientOrderIdFor } from "#steps/execute-trade.js";
import { utcDay } from "#steps/portfolio-state.js";
import { signal } from "#test/store/fixtures.js";
import { exitChain } from "./exits-support.js";

const HOUR = 3_600_000;
/** SOL at 150 with a 2% stop: R = 3, stop 147, targets 153 (half) and 156 (rest) */
const ENTRY = 150;

async function heldBase(chain: Awaited<ReturnType<typeof exitChain>>, currency: string): Promise<Decimal> {
  const b = (await chain.exchange.getBalances())[currency];
  return b ? new Decimal(b.available).plus(b.hold) : new Decimal(0);
}

describe("exits through the live chain on the paper venue", () => {
  it("STOP_LOSS: a crash through the stop sells the whole position once, even with the kill switch on, the drawdown past its limit and no trades left today", async () => {
    const chain = await exitChain("exit-stop");
    const opened = await chain.enter("e-stop", "SOL-USD", 500, ENTRY);
    expect(opened).toMatchObject({ status: "OPEN", symbol: "SOL-USD" });
    expect(opened.stopLoss).toBeCloseTo(opened.entryPrice * 0.98, 6);
    expect(Number(opened.quantity)).toBeGreaterThan(0);

    // everything that stops an entry
    await chain.stores.killSwitch.set(true, "ops", "drawdown limit reached", chain.now());
    for (let i = 0; i < 12; i++)
      await chain.stores.portfolio.recordApproval(
        {
          recommendationId: `other-${i}`,
          symbol: "BTC-USD",
          side: "BUY",
          amountUsd: 1,
          createdAt: chain.now().toISOString(),
        },
        utcDay(chain.now()),
      );
    const snapshot = await chain.stores.portfolio.latestEquitySnapshot();
    await chain.stores.portfolio.putEquitySnapshot({
      ...snapshot!,
      at: new Date(chain.now().getTime() + 1000).toISOString(),
      peakEquityUsd: 20_000,
      drawdownPct: 50,
    });
    chain.advance(HOUR);
    // a 30% crash: far outside the ±10% price band from the previous close
    await chain.price("SOL-USD", ENTRY * 0.7);
    const report = await chain.cycle();
    expect(report.issued.map((e) => e.label)).toEqual(["STOP_LOSS"]);

    const position = await chain.position("e-stop");
    expect(position).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(position?.exits).toHaveLength(1);
    expect(position?.exits[0]).toMatchObject({
      reason: "STOP_LOSS",
      outcome: "FILLED",
      filledBase: opened.quantity,
    });
    expect(position?.realizedPnlUsd).toBeLessThan(-0.25 * 500);
    expect(await heldBase(chain, "SOL")).toEqual(new Decimal(0));
    const sells = await chain.sells();
    expect(sells).toHaveLength(1);
    expect(sells[0]).toMatchObject({
      status: "EXECUTED",
      exit: { positionId: "e-stop", reason: "STOP_LOSS", leg: 0 },
    });
    expect(sells[0]?.history[0]?.reason).toMatch(
      /^exit STOP_LOSS by the position manager: the bid reached the stop/,
    );

    // a later minute changes nothing
    chain.advance(60_000);
    expect((await chain.cycle()).issued).toEqual([]);
    expect(await chain.sells()).toHaveLength(1);
  });

  it("TAKE_PROFIT_1 then TAKE_PROFIT_2: half at 1R, the rest at 2R, P&L per leg", async () => {
    const chain = await exitChain("exit-targets", { trailing: undefined });
    const opened = await chain.enter("e-tp", "SOL-USD", 500, ENTRY);
    const r = opened.riskPerUnit;
    chain.advance(HOUR);
    await chain.price("SOL-USD", opened.entryPrice + 1.2 * r);
    expect((await chain.cycle()).issued.map((e) => e.label)).toEqual(["TAKE_PROFIT_1"]);
    const half = await chain.position("e-tp");
    expect(half?.status).toBe("OPEN");
    expect(new Decimal(half!.quantity).toNumber()).toBeCloseTo(Number(opened.quantity) / 2, 6);
    expect(half?.exits[0]?.pnlUsd).toBeGreaterThan(0);

    chain.advance(HOUR);
    await chain.price("SOL-USD", opened.entryPrice + 2.1 * r);
    expect((await chain.cycle()).issued.map((e) => e.label)).toEqual(["TAKE_PROFIT_2"]);
    const closed = await chain.position("e-tp");
    expect(closed).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(closed?.exits.map((e) => e.exitId)).toEqual([
      "exit-e-tp-TAKE_PROFIT_1",
      "exit-e-tp-TAKE_PROFIT_2",
    ]);
    const pnl = closed!.exits.reduce((s, e) => s + (e.pnlUsd ?? 0), 0);
    expect(closed?.realizedPnlUsd).toBeCloseTo(pnl, 9);
    expect(closed?.realizedPnlUsd).toBeGreaterThan(0);
    expect(await heldBase(chain, "SOL")).toEqual(new Decimal(0));
  });

  it("TRAILING_STOP: the trail follows the high and sells when the bid falls back to it", async () => {
    const chain = await exitChain("exit-trail", {
      takeProfitLadder: [],
      trailing: { activationR: 1, distanceR: 0.5 },
    });
    const opened = await chain.enter("e-trail", "SOL-USD", 500, ENTRY);
    const r = opened.riskPerUnit;
    chain.advance(HOUR);
    await chain.price("SOL-USD", opened.entryPrice + 3 * r);
    expect((await chain.cycle()).issued).toEqual([]);
    const trailing = await chain.position("e-trail");
    expect(trailing?.trailingStop).toBeGreaterThan(opened.entryPrice + 2 * r);
    chain.advance(HOUR);
    await chain.price("SOL-USD", opened.entryPrice + 2.2 * r);
    expect((await chain.cycle()).issued.map((e) => e.label)).toEqual(["TRAILING_STOP"]);
    const closed = await chain.position("e-trail");
    expect(closed).toMatchObject({ status: "CLOSED" });
    expect(closed?.realizedPnlUsd).toBeGreaterThan(0);
  });

  it("TIME_LIMIT: a flat position is sold once EXIT_TIME_LIMIT_CANDLES candles have passed, not before", async () => {
    const chain = await exitChain("exit-time", { timeLimitCandles: 12 });
    const opened = await chain.enter("e-time", "SOL-USD", 500, ENTRY);
    chain.advance(11 * HOUR);
    await chain.price("SOL-USD", ENTRY);
    expect((await chain.cycle()).issued).toEqual([]);
    chain.advance(HOUR);
    await chain.price("SOL-USD", ENTRY);
    expect((await chain.cycle()).issued.map((e) => e.label)).toEqual(["TIME_LIMIT"]);
    const closed = await chain.position("e-time");
    expect(closed).toMatchObject({ status: "CLOSED", closedAt: chain.now().toISOString() });
    expect(Date.parse(closed!.closedAt!)).toBeGreaterThanOrEqual(Date.parse(opened.expiresAt!));
  });

  it("SIGNAL: a SELL signal for the held symbol after the entry sells it, without the LLM; one before the entry does not", async () => {
    const chain = await exitChain("exit-signal");
    await chain.stores.signals.putSignal(
      signal({
        signalId: "sell-before",
        symbol: "SOL-USD",
        signalType: "SELL",
        createdAt: "2024-06-30T11:00:00.000Z",
      }),
    );
    await chain.enter("e-signal", "SOL-USD", 500, ENTRY);
    chain.advance(60_000);
    expect((await chain.cycle()).issued).toEqual([]);
    chain.advance(HOUR);
    await chain.price("SOL-USD", ENTRY);
    await chain.stores.signals.putSignal(
      signal({
        signalId: "sell-after",
        symbol: "SOL-USD",
        signalType: "SELL",
        createdAt: chain.now().toISOString(),
      }),
    );
    expect((await chain.cycle()).issued.map((e) => e.label)).toEqual(["SIGNAL"]);
    expect(await chain.position("e-signal")).toMatchObject({ status: "CLOSED" });
    const [sell] = await chain.sells();
    expect(sell?.history.some((h) => h.to === "VALIDATED")).toBe(false);
  });

  it("KILL_SWITCH: with KILL_SWITCH_FLATTEN every position is sold when the switch is on; without it, none", async () => {
    const keep = await exitChain("exit-kill-keep", { flattenOnKillSwitch: false });
    await keep.enter("k-keep", "SOL-USD", 500, ENTRY);
    await keep.stores.killSwitch.set(true, "ops", "pause", keep.now());
    keep.advance(60_000);
    expect((await keep.cycle()).issued).toEqual([]);

    const chain = await exitChain("exit-kill", { flattenOnKillSwitch: true });
    await chain.enter("k-sol", "SOL-USD", 500, ENTRY);
    await chain.enter("k-eth", "ETH-USD", 500, 3000);
    chain.advance(60_000);
    expect((await chain.cycle()).issued).toEqual([]);
    await chain.stores.killSwitch.set(true, "portfolio (automatic)", "daily loss", chain.now());
    chain.advance(60_000);
    const report = await chain.cycle();
    expect(report.issued.map((e) => e.label).sort()).toEqual(["KILL_SWITCH", "KILL_SWITCH"]);
    for (const id of ["k-sol", "k-eth"]) expect(await chain.position(id)).toMatchObject({ status: "CLOSED" });
    expect(await heldBase(chain, "SOL")).toEqual(new Decimal(0));
    expect(await heldBase(chain, "ETH")).toEqual(new Decimal(0));
  });

  it("a crash through the stop gives exactly one SELL with two position managers at once and every message delivered 3 times (two concurrently)", async () => {
    const chain = await exitChain("exit-crash-twins");
    const opened = await chain.enter("e-crash", "SOL-USD", 500, ENTRY);
    chain.advance(HOUR);
    await chain.price("SOL-USD", ENTRY * 0.8);
    const [a, b] = await Promise.all([chain.manage(), chain.manage()]);
    expect([...a.issued, ...b.issued].map((e) => e.label)).toEqual(["STOP_LOSS"]);
    const messages = await chain.receive();
    expect(messages).toHaveLength(1);
    const [m] = messages;
    await Promise.all([chain.deliver(m!), chain.deliver(m!)]);
    await chain.deliver(m!);
    // and both managers run again before the portfolio step books the fill
    await Promise.all([chain.manage(), chain.manage()]);
    await chain.deliverAll();
    await chain.reconcile();

    const exitId = "exit-e-crash-STOP_LOSS";
    expect((await chain.stores.orders.fillsOf(clientOrderIdFor(exitId))).length).toBe(1);
    const sells = await chain.sells();
    expect(sells.map((s) => s.recommendationId)).toEqual([exitId]);
    expect(await heldBase(chain, "SOL")).toEqual(new Decimal(0));
    const position = await chain.position("e-crash");
    expect(position).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(position?.exits[0]?.filledBase).toBe(opened.quantity);
  });

  it("an entry filled without a stop opens no managed position (no stop is invented) and is reported unprotected", async () => {
    const chain = await exitChain("exit-unprotected");
    const report = await chain.buy("e-naked", "SOL-USD", 500, ENTRY, undefined);
    expect(report.managedPositions).toEqual([
      {
        kind: "unprotected",
        positionId: "e-naked",
        symbol: "SOL-USD",
        reason: expect.stringMatching(/approved without a stop-loss; \S+ SOL-USD is held with no exit rule/),
      },
    ]);
    expect(await chain.position("e-naked")).toBeUndefined();
    expect(await heldBase(chain, "SOL")).not.toEqual(new Decimal(0));
    chain.advance(HOUR);
    await chain.price("SOL-USD", ENTRY * 0.5);
    expect((await chain.cycle()).issued).toEqual([]);
  });

  it("an exit refused by the venue puts the position back to OPEN and is issued again under the next attempt's id", async () => {
    const chain = await exitChain("exit-refused");
    await chain.enter("e-refused", "SOL-USD", 500, ENTRY);
    // the position's coins are gone from the venue (sold by hand): the first exit finds nothing to sell
    const held = await heldBase(chain, "SOL");
    chain.advance(HOUR);
    await chain.price("SOL-USD", ENTRY * 0.9);
    await transferAway(chain, held);
    await chain.cycle();
    const first = await chain.stores.recommendations.get("exit-e-refused-STOP_LOSS");
    expect(first?.status).toBe("FAILED");
    // the coins come back; the next minute settles the failure and issues attempt 2
    await transferBack(chain, held);
    chain.advance(60_000);
    await chain.cycle();
    chain.advance(60_000);
    const report = await chain.cycle();
    const position = await chain.position("e-refused");
    expect(position?.exits.map((e) => [e.exitId, e.outcome])).toEqual([
      ["exit-e-refused-STOP_LOSS", "FAILED"],
      ["exit-e-refused-STOP_LOSS-2", "FILLED"],
    ]);
    expect(position?.status).toBe("CLOSED");
    expect(report.issued).toEqual([]);
    expect((await chain.stores.recommendations.get("exit-e-refused-STOP_LOSS-2"))?.exit?.attempt).toBe(2);
  });
});

/** Moves base out of the paper account (as a manual sale elsewhere would) ... */
async function transferAway(chain: Awaited<ReturnType<typeof exitChain>>, base: Decimal) {
  await chain.adjustPaperBalance("SOL", base.neg());
}
/** ... and back. */
async function transferBack(chain: Awaited<ReturnType<typeof exitChain>>, base: Decimal) {
  await chain.adjustPaperBalance("SOL", base);
}
