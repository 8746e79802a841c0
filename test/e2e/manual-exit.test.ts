/**
 * An operator's MANUAL exit and the cap on refused exits, through the live chain (position manager →
 * execution queue → executor → paper venue → portfolio step) on the local cloud: the request is
 * recorded on the position, evaluated at once, and sold once, whatever else runs at the same time;
 * an exit refused EXIT_MAX_ATTEMPTS times waits for an operator instead of being issued forever.
 */
import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import type { Log } from "#runtime/log.js";
import { clientOrderIdFor } from "#steps/execute-trade.js";
import { exitChain } from "./exits-support.js";

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** SOL at 150 with a 2% stop: R = 3, stop 147, targets 153 (half) and 156 (rest) */
const ENTRY = 150;
type Chain = Awaited<ReturnType<typeof exitChain>>;

async function heldBase(chain: Chain, currency: string): Promise<Decimal> {
  const b = (await chain.exchange.getBalances())[currency];
  return b ? new Decimal(b.available).plus(b.hold) : new Decimal(0);
}

/** A log that keeps what was said, to check the audit lines. */
function recordingLog() {
  const lines: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, extra: Object.assign({}, ...extra) });
  const log: Log = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { log, lines };
}

describe("MANUAL exit, an operator's command", () => {
  it("sells the whole rest at the bid in the same invocation, audited, with the kill switch on; again is 'already requested'; a CLOSED or unknown position is an error value", async () => {
    const chain = await exitChain("manual-exit");
    const opened = await chain.enter("m-1", "SOL-USD", 500, ENTRY);
    // an operator's pause (no flatten): entries stop, exits do not
    await chain.stores.killSwitch.set(true, "ops", "investigating", chain.now());
    chain.advance(HOUR);
    await chain.price("SOL-USD", ENTRY * 1.002); // between the stop and the first target: no rule acts
    expect((await chain.manage()).issued).toEqual([]);

    const { log, lines } = recordingLog();
    chain.advance(MINUTE);
    const answer = await chain.command(
      { action: "exit", positionId: "m-1", by: "alice", reason: "delisting announced" },
      log,
    );
    expect(answer).toMatchObject({
      outcome: "requested",
      positionId: "m-1",
      issued: [{ exitId: "exit-m-1-MANUAL", label: "MANUAL", baseSize: opened.quantity }],
      pendingExits: ["exit-m-1-MANUAL"],
    });
    const audit = lines.find((l) => l.message.startsWith("MANUAL exit requested"));
    expect(audit).toMatchObject({
      level: "warn",
      extra: { correlationId: "m-1", by: "alice", reason: "delisting announced" },
    });
    const recorded = await chain.position("m-1");
    expect(recorded?.manualExit).toEqual({
      by: "alice",
      reason: "delisting announced",
      requestedAt: chain.now().toISOString(),
    });
    expect(recorded?.status).toBe("CLOSING");

    // asking again, and the every-minute run, change nothing
    const again = await chain.command({ action: "exit", positionId: "m-1", by: "bob", reason: "me too" });
    expect(again).toMatchObject({ outcome: "already-requested", issued: [] });
    expect((await chain.manage()).issued).toEqual([]);
    expect((await chain.position("m-1"))?.manualExit?.by).toBe("alice");

    await chain.deliverAll();
    await chain.reconcile();
    const closed = await chain.position("m-1");
    expect(closed).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(closed?.exits.map((e) => [e.exitId, e.reason, e.outcome])).toEqual([
      ["exit-m-1-MANUAL", "MANUAL", "FILLED"],
    ]);
    expect(await heldBase(chain, "SOL")).toEqual(new Decimal(0));
    const sells = await chain.sells();
    expect(sells.map((s) => [s.recommendationId, s.status])).toEqual([["exit-m-1-MANUAL", "EXECUTED"]]);
    expect(sells[0]?.reasoning).toMatch(
      /^exit MANUAL by the position manager: alice asked to sell: delisting announced/,
    );

    expect(
      await chain.command({ action: "exit", positionId: "m-1", by: "alice", reason: "again" }),
    ).toMatchObject({
      outcome: "refused",
      error: expect.stringMatching(
        /m-1 \(SOL-USD\) is CLOSED since .* \(sold by MANUAL\): nothing is left to sell/,
      ),
    });
    expect(
      await chain.command({ action: "exit", positionId: "nope", by: "alice", reason: "x" }),
    ).toMatchObject({
      outcome: "refused",
      error: expect.stringMatching(/no managed position "nope".*"action":"list"/),
    });
    expect(await chain.sells()).toHaveLength(1);
  });

  it("is one SELL with two operators and a scheduled run at once and the message delivered 3 times (two concurrently)", async () => {
    const chain = await exitChain("manual-twins");
    const opened = await chain.enter("m-2", "SOL-USD", 500, ENTRY);
    chain.advance(HOUR);
    await chain.price("SOL-USD", ENTRY);
    const exit = (by: string) => chain.command({ action: "exit", positionId: "m-2", by, reason: "by hand" });
    const [a, b, run] = await Promise.all([exit("alice"), exit("bob"), chain.manage()]);
    const outcomes = [a, b].map((r) => ("outcome" in r ? r.outcome : "?")).sort();
    expect(outcomes).toEqual(["already-requested", "requested"]);
    const issued = [a, b].flatMap((r) => ("issued" in r ? r.issued : [])).concat(run.issued);
    expect(issued.map((e) => e.exitId)).toEqual(["exit-m-2-MANUAL"]);

    const messages = await chain.receive();
    expect(messages).toHaveLength(1);
    const [m] = messages;
    await Promise.all([chain.deliver(m!), chain.deliver(m!)]);
    await chain.deliver(m!);
    await chain.reconcile();
    expect((await chain.stores.orders.fillsOf(clientOrderIdFor("exit-m-2-MANUAL"))).length).toBe(1);
    expect((await chain.sells()).map((s) => s.recommendationId)).toEqual(["exit-m-2-MANUAL"]);
    const position = await chain.position("m-2");
    expect(position).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(position?.exits[0]?.filledBase).toBe(opened.quantity);
  });

  it("list shows entry, quantity, stop, targets left and the P&L at the bid; exit-all sells the rest of every position, after a target leg", async () => {
    const chain = await exitChain("manual-all");
    const sol = await chain.enter("m-sol", "SOL-USD", 500, ENTRY);
    const eth = await chain.enter("m-eth", "ETH-USD", 400, 2000);
    chain.advance(HOUR);
    await chain.price("SOL-USD", 153.5); // SOL's first target (153): half sold
    await chain.price("ETH-USD", 2010);
    await chain.cycle();

    const listed = await chain.command({ action: "list" });
    if (!("positions" in listed)) throw new Error("list answered no positions");
    const byId = new Map(listed.positions.map((p) => [p.positionId, p]));
    expect([...byId.keys()].sort()).toEqual(["m-eth", "m-sol"]);
    const solLine = byId.get("m-sol")!;
    expect(solLine).toMatchObject({ symbol: "SOL-USD", status: "OPEN", entryQuantity: sol.quantity });
    expect(Number(solLine.quantity)).toBeCloseTo(Number(sol.quantity) / 2, 6);
    expect(solLine.targetsLeft).toEqual([{ leg: 2, price: sol.takeProfits[1]!.price, share: 0.5 }]);
    expect(solLine.stopInForce).toBeGreaterThanOrEqual(sol.stopLoss);
    expect(solLine.realizedPnlUsd).toBeGreaterThan(0);
    const ethLine = byId.get("m-eth")!;
    expect(ethLine.bid).toBeGreaterThan(2000 * 0.99);
    // the rest at the bid, less the entry cost of the rest (the fee in): the sign follows the bid
    const costShare = eth.entryCostUsd;
    expect(ethLine.unrealizedPnlUsd).toBeCloseTo(Number(eth.quantity) * ethLine.bid! - costShare, 2);

    chain.advance(MINUTE);
    const all = await chain.command({ action: "exit-all", by: "alice", reason: "maintenance" });
    if (!("results" in all)) throw new Error("exit-all answered no results");
    expect(all.results.map((r) => [r.positionId, r.outcome]).sort()).toEqual([
      ["m-eth", "requested"],
      ["m-sol", "requested"],
    ]);
    await chain.deliverAll();
    await chain.reconcile();
    for (const id of ["m-sol", "m-eth"]) expect((await chain.position(id))?.status).toBe("CLOSED");
    expect((await chain.position("m-sol"))?.exits.map((e) => e.exitId)).toEqual([
      "exit-m-sol-TAKE_PROFIT_1",
      "exit-m-sol-MANUAL",
    ]);
    expect(await heldBase(chain, "SOL")).toEqual(new Decimal(0));
    expect(await heldBase(chain, "ETH")).toEqual(new Decimal(0));
    expect(await chain.command({ action: "list" })).toEqual({ positions: [] });
  });
});

describe("refused exits are not issued forever (EXIT_MAX_ATTEMPTS)", () => {
  /** the position's coins moved away from the venue: every sell of them is refused */
  async function crashWithCoinsGone(chain: Chain, id: string) {
    await chain.enter(id, "SOL-USD", 500, ENTRY);
    const held = await heldBase(chain, "SOL");
    chain.advance(HOUR);
    await chain.price("SOL-USD", ENTRY * 0.9);
    await chain.adjustPaperBalance("SOL", held.neg());
    return held;
  }

  it("after the cap the position waits for an operator (no new attempt, reported every run); retry-exits issues the next attempt", async () => {
    const chain = await exitChain("exit-cap", {}, { maxExitAttempts: 2 });
    const held = await crashWithCoinsGone(chain, "c-1");
    await chain.cycle(); // attempt 1 issued, refused
    chain.advance(MINUTE);
    await chain.cycle(); // attempt 1 settled FAILED, attempt 2 issued, refused
    chain.advance(MINUTE);
    const capped = await chain.manage(); // attempt 2 settled: the cap is reached
    expect(capped.issued).toEqual([]);
    expect(capped.failedExits).toEqual(["exit-c-1-STOP_LOSS-2"]);
    expect(capped.awaitingOperator).toEqual([
      { positionId: "c-1", symbol: "SOL-USD", exit: "STOP_LOSS", failedAttempts: 2 },
    ]);
    const position = await chain.position("c-1");
    expect(position).toMatchObject({
      status: "OPEN",
      needsOperator: { reason: "STOP_LOSS", leg: 0, failedAttempts: 2 },
    });

    // later minutes issue nothing, and say so every run
    for (let i = 0; i < 3; i++) {
      chain.advance(MINUTE);
      const later = await chain.cycle();
      expect(later.issued).toEqual([]);
      expect(later.awaitingOperator.map((a) => a.positionId)).toEqual(["c-1"]);
    }
    expect((await chain.sells()).map((s) => s.recommendationId).sort()).toEqual([
      "exit-c-1-STOP_LOSS",
      "exit-c-1-STOP_LOSS-2",
    ]);

    // the coins are back; the operator lifts the hold: attempt 3 goes at once and fills
    await chain.adjustPaperBalance("SOL", held);
    chain.advance(MINUTE);
    const { log, lines } = recordingLog();
    const retried = await chain.command(
      { action: "retry-exits", positionId: "c-1", by: "alice", reason: "coins back" },
      log,
    );
    expect(retried).toMatchObject({
      outcome: "hold-cleared",
      issued: [{ exitId: "exit-c-1-STOP_LOSS-3", label: "STOP_LOSS" }],
    });
    expect(lines.find((l) => l.message.startsWith("hold lifted"))?.extra).toMatchObject({
      by: "alice",
      reason: "coins back",
    });
    await chain.deliverAll();
    await chain.reconcile();
    const closed = await chain.position("c-1");
    expect(closed?.status).toBe("CLOSED");
    expect(closed?.needsOperator).toBeUndefined();
    expect(closed?.exits.map((e) => [e.exitId, e.outcome])).toEqual([
      ["exit-c-1-STOP_LOSS", "FAILED"],
      ["exit-c-1-STOP_LOSS-2", "FAILED"],
      ["exit-c-1-STOP_LOSS-3", "FILLED"],
    ]);
    expect(
      await chain.command({ action: "retry-exits", positionId: "c-1", by: "alice", reason: "x" }),
    ).toMatchObject({ outcome: "refused", error: expect.stringMatching(/CLOSED/) });
  });

  it("logs the hold at error level once, naming the position and what to do; a MANUAL exit lifts it and sells", async () => {
    const chain = await exitChain("exit-cap-manual", {}, { maxExitAttempts: 1 });
    const held = await crashWithCoinsGone(chain, "c-2");
    await chain.cycle(); // attempt 1 issued, refused
    chain.advance(MINUTE);
    const { log, lines } = recordingLog();
    // one error when the hold starts, a warning on each run after
    const first = await chain.manage(log);
    chain.advance(MINUTE);
    const second = await chain.manage(log);
    expect([first.awaitingOperator.length, second.awaitingOperator.length]).toEqual([1, 1]);
    // the failure itself is an error too (as before the cap); the hold is one more, once
    const errors = lines.filter((l) => l.level === "error" && !l.message.startsWith("exit failed"));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/^exit STOP_LOSS refused 1 times: no automatic exit/);
    expect(errors[0]?.extra).toMatchObject({
      correlationId: "c-2",
      advice: expect.stringMatching(/"action":"exit"/),
    });
    expect(
      lines.filter((l) => l.level === "warn" && l.message.startsWith("position still waits")),
    ).toHaveLength(1);

    await chain.adjustPaperBalance("SOL", held);
    chain.advance(MINUTE);
    const answer = await chain.command({ action: "exit", positionId: "c-2", by: "alice", reason: "sell it" });
    expect(answer).toMatchObject({ outcome: "requested", issued: [{ exitId: "exit-c-2-MANUAL" }] });
    await chain.deliverAll();
    await chain.reconcile();
    const closed = await chain.position("c-2");
    expect(closed).toMatchObject({ status: "CLOSED" });
    expect(closed?.needsOperator).toBeUndefined();
    expect(closed?.exits.map((e) => [e.exitId, e.outcome])).toEqual([
      ["exit-c-2-STOP_LOSS", "FAILED"],
      ["exit-c-2-MANUAL", "FILLED"],
    ]);
  });
});
