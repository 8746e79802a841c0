import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ExitState, evaluateExits, type MarketView, openExitState } from "#exits/exit-policy.js";
import {
  assertValidExitSettings,
  DEFAULT_EXITS,
  type ExitSettings,
  parseLadder,
} from "#exits/exit-settings.js";

const HOUR = 3600;
const T0 = Date.UTC(2024, 0, 1);
/** entry 100, 2% stop: R = 2, stop 98, targets 102 (half) and 104 (rest), trail from 102 at 2 under the high */
const open = (settings: ExitSettings = DEFAULT_EXITS): ExitState =>
  openExitState({ price: 100, quantity: 1, stopDistance: 0.02, openedAtMs: T0 }, settings, HOUR);
const candle = (hour: number, low: number, high: number, close: number, o?: number): MarketView => ({
  ...(o !== undefined ? { open: o } : {}),
  low,
  high,
  close,
  atMs: T0 + hour * HOUR * 1000,
});
const calm = { sellSignal: false, flatten: false };

describe("exit policy: each reason", () => {
  it("opens with the stop, R, the ladder and the time limit", () => {
    const s = open();
    expect(s).toMatchObject({ stopLoss: 98, riskPerUnit: 2, quantity: 1, targetsHit: 0, highWaterMark: 100 });
    expect(s.takeProfits).toEqual([
      { price: 102, share: 0.5 },
      { price: 104, share: 0.5 },
    ]);
    expect(s.expiresAtMs).toBe(T0 + 12 * HOUR * 1000);
  });

  it("STOP_LOSS: the low reaching the stop sells everything at the stop", () => {
    const { intents, state } = evaluateExits(open(), candle(1, 97.5, 100.5, 99), calm, DEFAULT_EXITS);
    expect(intents).toEqual([{ reason: "STOP_LOSS", leg: 0, quantity: 1, price: 98 }]);
    expect(state.quantity).toBe(0);
  });

  it("STOP_LOSS through a gap fills at the open, below the stop", () => {
    const { intents } = evaluateExits(open(), candle(1, 90, 96, 95, 95.5), calm, DEFAULT_EXITS);
    expect(intents).toEqual([{ reason: "STOP_LOSS", leg: 0, quantity: 1, price: 95.5 }]);
  });

  it("a candle touching both the stop and a target is a stop (stated in the docs)", () => {
    const { intents } = evaluateExits(open(), candle(1, 97, 105, 100), calm, DEFAULT_EXITS);
    expect(intents).toEqual([{ reason: "STOP_LOSS", leg: 0, quantity: 1, price: 98 }]);
  });

  it("TAKE_PROFIT ladder: half at 1R, the rest at 2R", () => {
    const first = evaluateExits(open(), candle(1, 99, 102.5, 102), calm, {
      ...DEFAULT_EXITS,
      trailing: undefined,
    });
    expect(first.intents).toEqual([{ reason: "TAKE_PROFIT", leg: 1, quantity: 0.5, price: 102 }]);
    expect(first.state).toMatchObject({ quantity: 0.5, targetsHit: 1 });
    const second = evaluateExits(first.state, candle(2, 101, 104, 103.5), calm, {
      ...DEFAULT_EXITS,
      trailing: undefined,
    });
    expect(second.intents).toEqual([{ reason: "TAKE_PROFIT", leg: 2, quantity: 0.5, price: 104 }]);
    expect(second.state.quantity).toBe(0);
  });

  it("one candle through both targets takes both legs", () => {
    const { intents } = evaluateExits(open(), candle(1, 99.5, 106, 105), calm, DEFAULT_EXITS);
    expect(intents.map((i) => [i.reason, i.leg, i.quantity, i.price])).toEqual([
      ["TAKE_PROFIT", 1, 0.5, 102],
      ["TAKE_PROFIT", 2, 0.5, 104],
    ]);
  });

  it("TRAILING_STOP: activates at 1R, trails 1R under the high, only rises", () => {
    const settings: ExitSettings = { ...DEFAULT_EXITS, takeProfitLadder: [] };
    let s = evaluateExits(open(settings), candle(1, 99, 101.5, 101), calm, settings).state;
    expect(Number.isNaN(s.trailingStop)).toBe(true);
    s = evaluateExits(s, candle(2, 100.5, 106, 105.5), calm, settings).state;
    expect(s.trailingStop).toBe(104);
    s = evaluateExits(s, candle(3, 104.5, 105, 104.8), calm, settings).state;
    expect(s.trailingStop).toBe(104);
    const { intents } = evaluateExits(s, candle(4, 103, 104.9, 103.5), calm, settings);
    expect(intents).toEqual([{ reason: "TRAILING_STOP", leg: 0, quantity: 1, price: 104 }]);
  });

  it("TRAILING_STOP: a close under the trail it just raised sells at the close", () => {
    const settings: ExitSettings = { ...DEFAULT_EXITS, takeProfitLadder: [] };
    const { intents } = evaluateExits(open(settings), candle(1, 100, 108, 105), calm, settings);
    expect(intents).toEqual([{ reason: "TRAILING_STOP", leg: 0, quantity: 1, price: 105 }]);
  });

  it("TIME_LIMIT: the evaluation at the expiry sells the rest at the close", () => {
    const s = open();
    expect(evaluateExits(s, candle(11, 99, 101, 100.5), calm, DEFAULT_EXITS).intents).toEqual([]);
    expect(evaluateExits(s, candle(12, 99, 101, 100.5), calm, DEFAULT_EXITS).intents).toEqual([
      { reason: "TIME_LIMIT", leg: 0, quantity: 1, price: 100.5 },
    ]);
    const off = { ...DEFAULT_EXITS, timeLimitCandles: 0 };
    expect(evaluateExits(open(off), candle(500, 99, 101, 100.5), calm, off).intents).toEqual([]);
  });

  it("SIGNAL: a SELL signal sells the rest at the close, unless turned off", () => {
    const ctx = { sellSignal: true, flatten: false };
    expect(evaluateExits(open(), candle(1, 99, 101, 100), ctx, DEFAULT_EXITS).intents).toEqual([
      { reason: "SIGNAL", leg: 0, quantity: 1, price: 100 },
    ]);
    const off = { ...DEFAULT_EXITS, exitOnSellSignal: false };
    expect(evaluateExits(open(off), candle(1, 99, 101, 100), ctx, off).intents).toEqual([]);
  });

  it("KILL_SWITCH: flattening sells the rest, after a target leg of the same candle", () => {
    const ctx = { sellSignal: true, flatten: true };
    expect(evaluateExits(open(), candle(1, 99, 102, 101), ctx, DEFAULT_EXITS).intents).toEqual([
      { reason: "TAKE_PROFIT", leg: 1, quantity: 0.5, price: 102 },
      { reason: "KILL_SWITCH", leg: 0, quantity: 0.5, price: 101 },
    ]);
  });

  it("MANUAL: an operator's request sells the whole rest at the close before any rule, even a stop and a target of the same candle", () => {
    const manual = { sellSignal: true, flatten: true, manual: true };
    const afterLeg = evaluateExits(open(), candle(1, 99, 102, 101), calm, DEFAULT_EXITS).state;
    expect(afterLeg.quantity).toBe(0.5);
    const { intents, state } = evaluateExits(afterLeg, candle(2, 97, 105, 100.5), manual, DEFAULT_EXITS);
    expect(intents).toEqual([{ reason: "MANUAL", leg: 0, quantity: 0.5, price: 100.5 }]);
    expect(state).toMatchObject({ quantity: 0, targetsHit: 1 });
    // without the request the same candle is a stop (the trail, risen to 100 at the first target)
    expect(evaluateExits(afterLeg, candle(2, 97, 105, 100.5), calm, DEFAULT_EXITS).intents).toEqual([
      { reason: "TRAILING_STOP", leg: 0, quantity: 0.5, price: 100 },
    ]);
  });

  it("a closed position gives nothing", () => {
    const s = { ...open(), quantity: 0 };
    expect(
      evaluateExits(s, candle(1, 50, 200, 100), { sellSignal: true, flatten: true }, DEFAULT_EXITS),
    ).toEqual({
      intents: [],
      state: s,
    });
  });
});

describe("exit settings", () => {
  it("parses and checks the ladder", () => {
    expect(parseLadder("1:0.5, 2:0.5")).toEqual({
      ladder: [
        { atR: 1, share: 0.5 },
        { atR: 2, share: 0.5 },
      ],
    });
    expect(parseLadder("none")).toEqual({ ladder: [] });
    expect(parseLadder("2:0.5,1:0.5")).toEqual({ problem: "leg 2: the targets must rise (2R then 1R)" });
    expect(parseLadder("1:0.7,2:0.5")).toEqual({
      problem: "the shares add up to 1.2, more than the whole position (1)",
    });
    expect(parseLadder("1-0.5")).toEqual({ problem: '"1-0.5" is not atR:share (such as 1:0.5)' });
  });

  it("refuses impossible settings built in code", () => {
    expect(() => assertValidExitSettings({ ...DEFAULT_EXITS, timeLimitCandles: -1 })).toThrow(
      /timeLimitCandles/,
    );
    expect(() =>
      assertValidExitSettings({ ...DEFAULT_EXITS, trailing: { activationR: 1, distanceR: 0 } }),
    ).toThrow(/distanceR/);
  });
});

const Settings = fc.record({
  takeProfitLadder: fc.constantFrom(
    [],
    [{ atR: 1, share: 1 }],
    [
      { atR: 1, share: 0.5 },
      { atR: 2, share: 0.5 },
    ],
    [
      { atR: 0.5, share: 0.3 },
      { atR: 1.5, share: 0.3 },
      { atR: 3, share: 0.4 },
    ],
  ),
  trailing: fc.option(
    fc.record({
      activationR: fc.double({ min: 0, max: 3, noNaN: true }),
      distanceR: fc.double({ min: 0.1, max: 3, noNaN: true }),
    }),
    { nil: undefined },
  ),
  timeLimitCandles: fc.integer({ min: 0, max: 48 }),
  exitOnSellSignal: fc.boolean(),
  flattenOnKillSwitch: fc.constant(false),
  stopLimitOffset: fc.constant(0.05),
});

/** A random walk of hourly candles, as (low, high, close) moves around the previous close. */
const Walk = fc.array(
  fc.record({
    drift: fc.double({ min: -0.06, max: 0.06, noNaN: true }),
    up: fc.double({ min: 0, max: 0.04, noNaN: true }),
    down: fc.double({ min: 0, max: 0.04, noNaN: true }),
    sell: fc.boolean(),
  }),
  { minLength: 1, maxLength: 80 },
);

describe("exit policy: invariants (fast-check)", () => {
  it("sells never exceed the position, and every intent is positive", () => {
    fc.assert(
      fc.property(
        Settings,
        Walk,
        fc.double({ min: 0.005, max: 0.2, noNaN: true }),
        (settings, walk, stop) => {
          let s = openExitState(
            { price: 100, quantity: 0.37, stopDistance: stop, openedAtMs: T0 },
            settings,
            HOUR,
          );
          let sold = 0;
          let close = 100;
          walk.forEach((m, i) => {
            const next = close * (1 + m.drift);
            const market = candle(
              i + 1,
              Math.min(close, next) * (1 - m.down),
              Math.max(close, next) * (1 + m.up),
              next,
              close,
            );
            const r = evaluateExits(s, market, { sellSignal: m.sell, flatten: false }, settings);
            for (const intent of r.intents) {
              expect(intent.quantity).toBeGreaterThan(0);
              sold += intent.quantity;
            }
            expect(r.state.quantity).toBeGreaterThanOrEqual(0);
            s = r.state;
            close = next;
          });
          expect(sold).toBeLessThanOrEqual(0.37 * (1 + 1e-12));
          expect(sold + s.quantity).toBeCloseTo(0.37, 12);
        },
      ),
    );
  });

  it("no position outlives its time limit by more than one evaluation", () => {
    fc.assert(
      fc.property(Settings, Walk, (settings, walk) => {
        fc.pre(settings.timeLimitCandles > 0);
        let s = openExitState(
          { price: 100, quantity: 1, stopDistance: 0.02, openedAtMs: T0 },
          settings,
          HOUR,
        );
        let close = 100;
        for (let i = 0; i < walk.length; i++) {
          const m = walk[i]!;
          const next = close * (1 + m.drift / 10);
          s = evaluateExits(
            s,
            candle(i + 1, Math.min(close, next), Math.max(close, next), next),
            { sellSignal: false, flatten: false },
            settings,
          ).state;
          close = next;
          // evaluated at (or past) the expiry: nothing may be left
          if (T0 + (i + 1) * HOUR * 1000 >= s.expiresAtMs) expect(s.quantity).toBe(0);
        }
      }),
    );
  });

  it("the stop in force never falls and the high-water mark never falls", () => {
    fc.assert(
      fc.property(Settings, Walk, (settings, walk) => {
        let s = openExitState(
          { price: 100, quantity: 1, stopDistance: 0.03, openedAtMs: T0 },
          settings,
          HOUR,
        );
        let close = 100;
        for (let i = 0; i < walk.length && s.quantity > 0; i++) {
          const m = walk[i]!;
          const next = close * (1 + m.drift / 3);
          const before = s;
          s = evaluateExits(
            before,
            candle(i + 1, Math.min(close, next) * 0.999, Math.max(close, next) * (1 + m.up), next),
            calm,
            settings,
          ).state;
          expect(s.highWaterMark).toBeGreaterThanOrEqual(before.highWaterMark);
          if (!Number.isNaN(before.trailingStop))
            expect(s.trailingStop).toBeGreaterThanOrEqual(before.trailingStop);
          close = next;
        }
      }),
    );
  });
});
