/**
 * Every exit reason through the live chain on the fake Coinbase, with the stop resting on the
 * exchange (EXIT_RESTING_STOP on): each reason closes the position, the exchange never holds two
 * live sells for the same base, and what was bought is what was sold.
 */
import { Decimal } from "decimal.js";
import { afterEach, describe, expect, it } from "vitest";
import type { ExitSettings } from "#exits/exit-settings.js";
import { clientOrderIdFor } from "#steps/execute-trade.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { signal } from "#test/store/fixtures.js";
import { COINBASE_TEST_KEY, exitChain } from "./exits-support.js";
import { fakeProductAt } from "./support.js";

const HOUR = 3_600_000;
const SYMBOL = "SOL-USD";
const ENTRY = 150;

describe("exits through the live chain on the fake Coinbase, the stop resting on the exchange", () => {
  let fake: FakeCoinbase;
  const started: FakeCoinbase[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.close()));
  });

  /** A chain on a fresh fake whose every cycle checks that at most one sell of the symbol is live. */
  async function coinbaseChain(label: string, exits: Partial<ExitSettings> = {}) {
    fake = await startFakeCoinbase({
      keys: [{ name: COINBASE_TEST_KEY.name, publicKey: COINBASE_TEST_KEY.publicKey }],
      products: [fakeProductAt(SYMBOL, ENTRY)],
      balances: { USD: "10000", SOL: "0" },
    });
    started.push(fake);
    const chain = await exitChain(label, exits, { restingStops: true }, fake);
    const cycle = async () => {
      const report = await chain.cycle();
      expect(liveSells().length).toBeLessThanOrEqual(1);
      return report;
    };
    const position = await chain.enter(`${label}-p`, SYMBOL, 600, ENTRY);
    // the first minute after the entry rests its stop
    const rested = await cycle();
    expect(rested.restingStopsPlaced).toHaveLength(1);
    return { chain, position, cycle };
  }

  const liveSells = () =>
    [...fake.state.orders.values()].filter((o) => o.side === "SELL" && o.status === "OPEN");
  const solHeld = () => {
    const b = fake.state.balance("SOL");
    return new Decimal(b.available).plus(b.hold);
  };
  /** The exits that sold something, by label (a resting stop that filled counts as its rule). */
  async function soldBy(chain: Awaited<ReturnType<typeof coinbaseChain>>["chain"], id: string) {
    const position = await chain.position(id);
    return position!.exits
      .filter((e) => e.outcome === "FILLED")
      .map((e) => (e.reason === "TAKE_PROFIT" ? `TAKE_PROFIT_${e.leg}` : e.reason));
  }

  it("STOP_LOSS: a crash through the stop's limit leaves the stop unfilled; it is cancelled and one market SELL sells the position", async () => {
    const { chain, position, cycle } = await coinbaseChain("cb-stop");
    chain.advance(HOUR);
    await chain.price(SYMBOL, ENTRY * 0.7);
    const report = await cycle();
    expect(report.issued.map((e) => e.label)).toEqual(["STOP_LOSS"]);
    expect(report.restingStopsCancelled).toHaveLength(1);
    expect(await chain.position(position.positionId)).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(await soldBy(chain, position.positionId)).toEqual(["STOP_LOSS"]);
    expect(solHeld().toFixed()).toBe("0");
  });

  it("STOP_LOSS: a fall through the stop above its limit is sold by the resting stop itself, and nothing else", async () => {
    const { chain, position, cycle } = await coinbaseChain("cb-stop-rest");
    chain.advance(HOUR);
    await chain.price(SYMBOL, Number((position.stopLoss * 0.99).toFixed(2)));
    const report = await cycle();
    expect(report.issued).toEqual([]);
    expect(await chain.position(position.positionId)).toMatchObject({ status: "CLOSED" });
    expect(await soldBy(chain, position.positionId)).toEqual(["STOP_LOSS"]);
    expect([...fake.state.orders.values()].filter((o) => o.side === "SELL" && o.kind === "MARKET")).toEqual(
      [],
    );
    expect(solHeld().toFixed()).toBe("0");
  });

  it("TAKE_PROFIT_1 then TAKE_PROFIT_2: each leg sells after the resting stop is cancelled, the rest protected in between", async () => {
    const { chain, position, cycle } = await coinbaseChain("cb-targets", { trailing: undefined });
    const r = position.riskPerUnit;
    chain.advance(HOUR);
    await chain.price(SYMBOL, Number((position.entryPrice + 1.2 * r).toFixed(2)));
    expect((await cycle()).issued.map((e) => e.label)).toEqual(["TAKE_PROFIT_1"]);
    chain.advance(60_000);
    expect((await cycle()).restingStopsPlaced).toHaveLength(1);
    chain.advance(HOUR);
    await chain.price(SYMBOL, Number((position.entryPrice + 2.1 * r).toFixed(2)));
    expect((await cycle()).issued.map((e) => e.label)).toEqual(["TAKE_PROFIT_2"]);
    const closed = await chain.position(position.positionId);
    expect(closed).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(await soldBy(chain, position.positionId)).toEqual(["TAKE_PROFIT_1", "TAKE_PROFIT_2"]);
    expect(closed!.realizedPnlUsd).toBeGreaterThan(0);
    expect(solHeld().toFixed()).toBe("0");
  });

  it("TRAILING_STOP: the resting stop follows the trail up and sells when the price falls back to it", async () => {
    const { chain, position, cycle } = await coinbaseChain("cb-trail", {
      takeProfitLadder: [],
      trailing: { activationR: 1, distanceR: 0.5 },
    });
    const r = position.riskPerUnit;
    chain.advance(HOUR);
    await chain.price(SYMBOL, Number((position.entryPrice + 3 * r).toFixed(2)));
    const raised = await cycle();
    expect(raised.restingStopsPlaced.map((e) => e.label)).toEqual(["RESTING_STOP"]);
    expect(raised.restingStopsCancelled).toHaveLength(1);
    chain.advance(HOUR);
    await chain.price(SYMBOL, Number((position.entryPrice + 2.2 * r).toFixed(2)));
    await cycle();
    const closed = await chain.position(position.positionId);
    expect(closed).toMatchObject({ status: "CLOSED" });
    expect(await soldBy(chain, position.positionId)).toEqual(["TRAILING_STOP"]);
    expect(closed!.realizedPnlUsd).toBeGreaterThan(0);
    expect(solHeld().toFixed()).toBe("0");
  });

  it("TIME_LIMIT, SIGNAL, KILL_SWITCH and MANUAL: each cancels the resting stop, then sells the whole position once", async () => {
    const scenarios: [
      string,
      Partial<ExitSettings>,
      (c: Awaited<ReturnType<typeof coinbaseChain>>) => Promise<void>,
    ][] = [
      ["TIME_LIMIT", { timeLimitCandles: 2 }, async ({ chain }) => chain.advance(2 * HOUR)],
      [
        "SIGNAL",
        {},
        async ({ chain }) => {
          chain.advance(HOUR);
          await chain.stores.signals.putSignal(
            signal({
              signalId: "cb-sell",
              symbol: SYMBOL,
              signalType: "SELL",
              createdAt: chain.now().toISOString(),
            }),
          );
        },
      ],
      [
        "KILL_SWITCH",
        { flattenOnKillSwitch: true },
        async ({ chain }) => {
          await chain.stores.killSwitch.set(true, "ops", "pause", chain.now());
          chain.advance(60_000);
        },
      ],
      [
        "MANUAL",
        {},
        async ({ chain, position }) => {
          chain.advance(60_000);
          const answer = await chain.command({
            action: "exit",
            positionId: position.positionId,
            by: "ops",
            reason: "by hand",
          });
          expect(answer).toMatchObject({ outcome: "requested" });
        },
      ],
    ];
    for (const [reason, exits, act] of scenarios) {
      const setup = await coinbaseChain(`cb-${reason.toLowerCase().replace("_", "-")}`, exits);
      const { chain, position, cycle } = setup;
      await chain.price(SYMBOL, ENTRY);
      await act(setup);
      await cycle();
      const closed = await chain.position(position.positionId);
      expect(closed, reason).toMatchObject({ status: "CLOSED", quantity: "0" });
      expect(await soldBy(chain, position.positionId), reason).toEqual([reason]);
      const stop = closed!.exits.find((e) => e.resting !== undefined);
      expect(stop?.outcome, reason).toBe("CANCELLED");
      const sells = [...fake.state.orders.values()].filter((o) => o.side === "SELL");
      expect(
        sells.map((o) => [o.kind, o.status]),
        reason,
      ).toEqual([
        ["STOP_LIMIT", "CANCELLED"],
        ["MARKET", "FILLED"],
      ]);
      expect(solHeld().toFixed(), reason).toBe("0");
    }
  });

  it("a crash through the stop gives one market SELL with two managers at once and every message delivered 3 times (two concurrently)", async () => {
    const { chain, position } = await coinbaseChain("cb-crash-twins");
    chain.advance(HOUR);
    await chain.price(SYMBOL, ENTRY * 0.8);
    const [a, b] = await Promise.all([chain.manage(), chain.manage()]);
    expect([...a.issued, ...b.issued].map((e) => e.label)).toEqual(["STOP_LOSS"]);
    const messages = await chain.receive();
    expect(messages).toHaveLength(1);
    const [m] = messages;
    await Promise.all([chain.deliver(m!), chain.deliver(m!)]);
    await chain.deliver(m!);
    await Promise.all([chain.manage(), chain.manage()]);
    await chain.deliverAll();
    await chain.reconcile();
    const exitId = `exit-${position.positionId}-STOP_LOSS`;
    expect(fake.state.ordersCreatedFor(clientOrderIdFor(exitId))).toBe(1);
    const market = [...fake.state.orders.values()].filter((o) => o.side === "SELL" && o.kind === "MARKET");
    expect(market).toHaveLength(1);
    expect(await chain.position(position.positionId)).toMatchObject({ status: "CLOSED", quantity: "0" });
    expect(solHeld().toFixed()).toBe("0");
  });
});
