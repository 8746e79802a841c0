/**
 * The protective stop resting on the exchange, through the live chain (position manager → execution
 * queue → executor → Coinbase Advanced Trade client, JWT-signed → fake Coinbase → portfolio step):
 * it rests once the entry filled, it is cancelled before a target sells, and a stop that filled
 * while the pipeline was down is booked on restart with no second sell.
 */
import { Decimal } from "decimal.js";
import { afterEach, describe, expect, it } from "vitest";
import type { ManagedPosition } from "#domain/schemas.js";
import { clientOrderIdFor } from "#steps/execute-trade.js";
import type { FakeOrder } from "#test/fakes/fake-coinbase/state.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { COINBASE_TEST_KEY, exitChain } from "./exits-support.js";
import { fakeProductAt } from "./support.js";

const HOUR = 3_600_000;
const SYMBOL = "SOL-USD";
/** SOL at 150 with a 2% stop: R = 3, stop 147, targets 153 (half) and 156 (rest) */
const ENTRY = 150;
/** the venue's price grid for SOL-USD here (fakeProductAt) and EXIT_STOP_LIMIT_OFFSET's default */
const PRICE_INCREMENT = new Decimal("0.01");
const STOP_LIMIT_OFFSET = 0.05;

function upOnGrid(price: Decimal.Value): Decimal {
  return new Decimal(price).div(PRICE_INCREMENT).ceil().mul(PRICE_INCREMENT);
}

/** The stop-limit the design asks for at a stop level: the stop up onto the grid, its limit 5% under, up onto the grid. */
function expectedTerms(stopLevel: number): { stop: Decimal; limit: Decimal } {
  const stop = upOnGrid(new Decimal(stopLevel).toDecimalPlaces(9));
  return { stop, limit: upOnGrid(stop.mul(1 - STOP_LIMIT_OFFSET)) };
}

function sellsOf(fake: FakeCoinbase): FakeOrder[] {
  return [...fake.state.orders.values()].filter((o) => o.product_id === SYMBOL && o.side === "SELL");
}

function liveSells(fake: FakeCoinbase): FakeOrder[] {
  return sellsOf(fake).filter((o) => o.status === "OPEN");
}

function restingStopOf(position: ManagedPosition | undefined) {
  return position?.exits.find((e) => e.resting !== undefined && e.outcome === undefined);
}

describe("the resting stop on the fake Coinbase, through the live chain", () => {
  // each test trades on a fresh fake Coinbase: its books, balances and requests are the test's alone
  let fake: FakeCoinbase;
  afterEach(() => fake?.close());

  /** A chain with resting stops on, its entry filled and reconciled into a managed position. */
  async function entered(label: string, id: string) {
    fake = await startFakeCoinbase({
      keys: [{ name: COINBASE_TEST_KEY.name, publicKey: COINBASE_TEST_KEY.publicKey }],
      products: [fakeProductAt(SYMBOL, ENTRY)],
      balances: { USD: "10000", SOL: "0" },
    });
    const chain = await exitChain(label, {}, { restingStops: true }, fake);
    const position = await chain.enter(id, SYMBOL, 600, ENTRY);
    return { chain, position };
  }

  it("rests on the exchange once the entry filled: one STOP_LIMIT SELL of the whole position at the stop, its client_order_id derived from the position", async () => {
    const { chain, position } = await entered("rest-after-entry", "rs-entry");
    const before = sellsOf(fake).length;
    expect(position.status).toBe("OPEN");

    const report = await chain.cycle();
    expect(report.issued).toEqual([]);
    expect(report.restingStopsPlaced.map((e) => e.label)).toEqual(["RESTING_STOP"]);

    const created = sellsOf(fake).slice(before);
    expect(created).toHaveLength(1);
    const stop = created[0]!;
    const terms = expectedTerms(position.stopLoss);
    expect(stop).toMatchObject({ kind: "STOP_LIMIT", status: "OPEN", triggered: false });
    expect(stop.stopDirection).toBe("STOP_DIRECTION_STOP_DOWN");
    expect(stop.stopPrice!.toFixed()).toBe(terms.stop.toFixed());
    expect(stop.limitPrice!.toFixed()).toBe(terms.limit.toFixed());
    expect(stop.stopPrice!.toNumber()).toBeLessThan(ENTRY);
    // the whole position, on the base grid (0.001), and on hold at the exchange
    const held = new Decimal(position.quantity).div("0.001").floor().mul("0.001");
    expect(stop.baseSize!.toFixed()).toBe(held.toFixed());
    expect(new Decimal(fake.state.balance("SOL").hold).toFixed()).toBe(held.toFixed());
    // deterministic: the position and the placement name the order
    const resting = restingStopOf(await chain.position("rs-entry"));
    expect(resting?.exitId).toBe("exit-rs-entry-RESTING_STOP-1");
    expect(stop.client_order_id).toBe(clientOrderIdFor("exit-rs-entry-RESTING_STOP-1"));
    expect(fake.state.ordersCreatedFor(stop.client_order_id)).toBe(1);
    expect((await chain.stores.recommendations.get(resting!.exitId))?.status).toBe("EXECUTED");

    // the next minutes change nothing: still one stop resting, the position still OPEN
    for (let i = 0; i < 2; i++) {
      chain.advance(60_000);
      const again = await chain.cycle();
      expect(again.restingStopsPlaced).toEqual([]);
    }
    expect(liveSells(fake)).toEqual([stop]);
    expect((await chain.position("rs-entry"))?.status).toBe("OPEN");
  });

  it("is cancelled before a target sells: the exchange sees the cancel first, never two sells live for the same base, and the rest gets a new stop", async () => {
    const { chain, position } = await entered("rest-then-target", "rs-target");
    await chain.cycle();
    const [stop] = liveSells(fake);
    expect(stop?.kind).toBe("STOP_LIMIT");

    chain.advance(HOUR);
    const seen = fake.requests.length;
    // the first target (1R above the entry): half the position sells at market
    await chain.price(SYMBOL, Number(upOnGrid(position.takeProfits[0]!.price).toFixed()));
    const report = await chain.manage();
    expect(report.issued.map((e) => e.label)).toEqual(["TAKE_PROFIT_1"]);
    expect(report.restingStopsCancelled).toEqual(["exit-rs-target-RESTING_STOP-1"]);
    // cancelled before the manager issued the sell: the sell is not even queued yet
    expect(fake.state.orders.get(stop!.order_id)?.status).toBe("CANCELLED");
    expect(liveSells(fake)).toEqual([]);
    await chain.deliverAll();
    await chain.reconcile();

    const calls = fake.requests.slice(seen).map((r) => `${r.method} ${r.path}`);
    const cancel = calls.findIndex((c) => c.endsWith("/orders/batch_cancel"));
    const sell = calls.indexOf("POST /api/v3/brokerage/orders");
    expect(cancel).toBeGreaterThanOrEqual(0);
    expect(sell).toBeGreaterThan(cancel);
    const market = sellsOf(fake).filter((o) => o.kind === "MARKET");
    expect(market).toHaveLength(1);
    expect(market[0]?.status).toBe("FILLED");

    const after = await chain.position("rs-target");
    expect(after?.status).toBe("OPEN");
    expect(after?.exits.find((e) => e.exitId === "exit-rs-target-RESTING_STOP-1")?.outcome).toBe("CANCELLED");
    expect(after?.exits.find((e) => e.reason === "TAKE_PROFIT")?.outcome).toBe("FILLED");

    // the next minute: the rest is protected again, by one stop of what is left
    chain.advance(60_000);
    const next = await chain.cycle();
    expect(next.restingStopsPlaced.map((e) => e.exitId)).toEqual(["exit-rs-target-RESTING_STOP-2"]);
    const live = liveSells(fake);
    expect(live).toHaveLength(1);
    expect(live[0]?.kind).toBe("STOP_LIMIT");
    const rest = new Decimal(after!.quantity).div("0.001").floor().mul("0.001");
    expect(live[0]?.baseSize?.toFixed()).toBe(rest.toFixed());
    // the trail (activated at 1R, 1R under the high) lifted the stop in force to the entry
    expect(live[0]!.stopPrice!.toNumber()).toBeGreaterThan(position.stopLoss);
  });

  it("a stop that fills while the pipeline is stopped is booked on restart: the position CLOSED as STOP_LOSS, its P&L booked, no second sell", async () => {
    const { chain, position } = await entered("rest-while-down", "rs-down");
    await chain.cycle();
    const [stop] = liveSells(fake);
    expect(stop?.kind).toBe("STOP_LIMIT");
    const sellsBefore = sellsOf(fake).length;

    // the pipeline is down: nothing runs while the price falls through the stop (above its limit)
    const fallTo = stop!.stopPrice!.mul(0.99).toDecimalPlaces(2).toNumber();
    fake.state.setPrice(SYMBOL, String(fallTo));
    expect(fake.state.orders.get(stop!.order_id)?.status).toBe("FILLED");
    chain.advance(3 * HOUR);

    // restart: the manager runs first and sees the bid under the stop; the portfolio step books the fill
    const report = await chain.cycle();
    expect(report.issued).toEqual([]);
    expect(report.waitingOnRestingStop).toEqual(["rs-down"]);
    const closed = await chain.position("rs-down");
    expect(closed).toMatchObject({ status: "CLOSED", quantity: "0" });
    const booked = closed!.exits.find((e) => e.exitId === "exit-rs-down-RESTING_STOP-1");
    expect(booked).toMatchObject({ reason: "STOP_LOSS", outcome: "FILLED" });
    expect(booked?.filledBase).toBe(stop!.baseSize!.toFixed());

    // P&L from the exchange's own fill: proceeds less its fee, less the entry's cost
    const fill = fake.state.fills.filter((f) => f.order_id === stop!.order_id);
    expect(fill).toHaveLength(1);
    const proceeds = new Decimal(fill[0]!.price).mul(fill[0]!.size).minus(fill[0]!.commission);
    const expected = proceeds.minus(position.entryCostUsd).toNumber();
    expect(closed!.realizedPnlUsd).toBeCloseTo(expected, 6);
    expect(closed!.realizedPnlUsd).toBeLessThan(0);

    // later runs sell nothing more
    chain.advance(60_000);
    await chain.cycle();
    expect(sellsOf(fake).length).toBe(sellsBefore);
    expect(liveSells(fake)).toEqual([]);
    expect(
      new Decimal(fake.state.balance("SOL").available).plus(fake.state.balance("SOL").hold).toFixed(),
    ).toBe("0");
  });

  it("a cancel still pending at the exchange holds the exit back a run: no sell goes out until the stop is off the venue", async () => {
    const { chain, position } = await entered("rest-slow-cancel", "rs-slow");
    await chain.cycle();
    const [stop] = liveSells(fake);
    // the next cancel lands only after many more reads of the order than one run makes
    fake.faults.slowCancel(50, 1);
    chain.advance(HOUR);
    await chain.price(SYMBOL, Number(upOnGrid(position.takeProfits[0]!.price).toFixed()));
    const held = await chain.cycle();
    expect(held.issued).toEqual([]);
    expect(held.waitingOnRestingStop).toEqual(["rs-slow"]);
    expect(sellsOf(fake).filter((o) => o.kind === "MARKET")).toEqual([]);
    expect((await chain.position("rs-slow"))?.targetsHit).toBe(0);

    // the pending cancel lands (the order is read on), and the next run sells the target
    for (let i = 0; i < 50; i++) await chain.exchange.getOrder(stop!.order_id);
    expect(fake.state.orders.get(stop!.order_id)?.status).toBe("CANCELLED");
    chain.advance(60_000);
    const sold = await chain.cycle();
    expect(sold.issued.map((e) => e.label)).toEqual(["TAKE_PROFIT_1"]);
    expect(sellsOf(fake).filter((o) => o.kind === "MARKET" && o.status === "FILLED")).toHaveLength(1);
  });

  it("is raised once the trail is 0.5R above it: the old stop cancelled, then one new stop at the trail", async () => {
    fake = await startFakeCoinbase({
      keys: [{ name: COINBASE_TEST_KEY.name, publicKey: COINBASE_TEST_KEY.publicKey }],
      products: [fakeProductAt(SYMBOL, ENTRY)],
      balances: { USD: "10000", SOL: "0" },
    });
    // no targets: the rise only moves the trail
    const chain = await exitChain("rest-raised", { takeProfitLadder: [] }, { restingStops: true }, fake);
    const position = await chain.enter("rs-raise", SYMBOL, 600, ENTRY);
    await chain.cycle();
    const [first] = liveSells(fake);
    const r = position.riskPerUnit;

    // the high at entry + 1.2R: the trail (1R under the high) is 0.2R above the entry, 1.2R above the stop
    chain.advance(HOUR);
    await chain.price(SYMBOL, Number(upOnGrid(position.entryPrice + 1.2 * r).toFixed()));
    const raised = await chain.cycle();
    expect(raised.issued).toEqual([]);
    expect(raised.restingStopsCancelled).toEqual(["exit-rs-raise-RESTING_STOP-1"]);
    expect(raised.restingStopsPlaced.map((e) => e.exitId)).toEqual(["exit-rs-raise-RESTING_STOP-2"]);
    expect(fake.state.orders.get(first!.order_id)?.status).toBe("CANCELLED");
    const live = liveSells(fake);
    expect(live).toHaveLength(1);
    const trail = (await chain.position("rs-raise"))!.trailingStop!;
    expect(trail).toBeGreaterThan(position.stopLoss + 0.5 * r);
    expect(live[0]!.stopPrice!.toFixed()).toBe(expectedTerms(trail).stop.toFixed());

    // a rise of less than 0.5R more leaves it where it is
    chain.advance(HOUR);
    await chain.price(SYMBOL, Number(upOnGrid(position.entryPrice + 1.5 * r).toFixed()));
    const kept = await chain.cycle();
    expect(kept.restingStopsPlaced).toEqual([]);
    expect(liveSells(fake)).toEqual(live);
  });

  it("three deliveries of every message (two at once), and two managers at once, still place one stop", async () => {
    const { chain } = await entered("rest-redelivered", "rs-twice");
    const stopId = "exit-rs-twice-RESTING_STOP-1";
    const [a, b] = await Promise.all([chain.manage(), chain.manage()]);
    expect([...a.restingStopsPlaced, ...b.restingStopsPlaced].map((e) => e.exitId)).toEqual([stopId]);

    const messages = await chain.receive();
    expect(messages).toHaveLength(1);
    const [message] = messages;
    await Promise.all([chain.deliver(message!), chain.deliver(message!)]);
    await chain.deliver(message!);
    await chain.reconcile();
    // a manager run after the deliveries, and one concurrent with the portfolio step
    await Promise.all([chain.manage(), chain.reconcile()]);
    await chain.deliverAll();

    expect(fake.state.ordersCreatedFor(clientOrderIdFor(stopId))).toBe(1);
    const live = liveSells(fake);
    expect(live).toHaveLength(1);
    expect(live[0]?.client_order_id).toBe(clientOrderIdFor(stopId));
    expect((await chain.stores.recommendations.get(stopId))?.status).toBe("EXECUTED");
    expect(restingStopOf(await chain.position("rs-twice"))?.exitId).toBe(stopId);
  });
});
