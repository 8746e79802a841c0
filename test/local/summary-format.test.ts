import { describe, expect, it } from "vitest";
import type { RunSummary } from "#local/summary.js";
import { formatSummary, minute, price, usd } from "#local/summary-format.js";

describe("npm start's numbers: money in cents, prices at the increment, times in UTC minutes", () => {
  it("prints dollars in cents, rounding half up, the sign before the dollar sign", () => {
    expect(usd("0.596421458208")).toBe("$0.60");
    expect(usd(10036.114999)).toBe("$10036.11");
    expect(usd(0.125)).toBe("$0.13");
    expect(usd(-1.674)).toBe("-$1.67");
    expect(usd(-0.004)).toBe("$0.00");
    expect(usd("0")).toBe("$0.00");
  });

  it("prints a price on its product's grid, or without float noise when the grid is unknown", () => {
    expect(price(7.105, "0.001")).toBe("7.105");
    expect(price("8.01", "0.001")).toBe("8.010");
    expect(price(35.4249, "0.01")).toBe("35.42");
    expect(price(0.1541549, "0.00001")).toBe("0.15415");
    expect(price(64123.456, "0.01000000")).toBe("64123.46");
    expect(price(231.17000000000002)).toBe("231.17");
    expect(price(231.17000000000002, "0")).toBe("231.17");
  });

  it("prints a time as its UTC minute", () => {
    expect(minute("2024-04-14T13:01:00.000Z")).toBe("2024-04-14T13:01Z");
  });
});

/** a run with no LLM answering, refusals with two reasons at once, and a failed order */
function summaryOf(overrides: Partial<RunSummary>): RunSummary {
  return {
    signalsByType: { BUY: 3, SELL: 0, HOLD: 1 },
    recommendationsByState: {},
    entriesByState: {},
    exitsByState: {},
    llm: { approved: 0, rejected: 0, waiting: 0, rejections: [] },
    riskRefusals: { total: 0, byReason: {}, refused: [] },
    orders: [],
    fills: [],
    positions: [],
    killSwitch: { active: false, reason: "never set" },
    exits: [],
    managedPositions: [],
    priceIncrements: {},
    ...overrides,
  };
}

describe("npm start's summary text", () => {
  it("counts the LLM's answers, and says when it never answered", () => {
    const text = formatSummary(
      summaryOf({
        entriesByState: { QUEUED: 2, REJECTED_BY_LLM: 1, EXECUTED: 1 },
        llm: {
          approved: 1,
          rejected: 1,
          waiting: 2,
          rejections: [
            {
              recommendationId: "r1",
              symbol: "ETH-USD",
              at: "2024-04-14T12:01:00.000Z",
              reasoning: "Overbought\n  after a  spike.",
            },
          ],
        },
      }),
    );
    expect(text).toMatch(/^Recommendations {2}4 entries: QUEUED 2 {2}EXECUTED 1 {2}REJECTED_BY_LLM 1$/m);
    expect(text).toMatch(
      /^LLM {14}approved 1 {2}rejected 1 {2}not validated 2 \(QUEUED: no LLM answered\)$/m,
    );
    expect(text).toMatch(/^ {2}2024-04-14T12:01Z {2}ETH-USD {4}Overbought after a spike\.$/m);
  });

  it("counts each reason of a refusal and shows the first refusal's detail for each", () => {
    const text = formatSummary(
      summaryOf({
        riskRefusals: {
          total: 2,
          byReason: { DAILY_TRADE_LIMIT: 2, ASSET_CONCENTRATION: 1 },
          refused: [
            {
              recommendationId: "r1",
              symbol: "BTC-USD",
              at: "2024-04-14T10:01:00.000Z",
              reasons: [{ reason: "DAILY_TRADE_LIMIT", detail: "10 trades today reach the limit" }],
            },
            {
              recommendationId: "r2",
              symbol: "ETH-USD",
              at: "2024-04-14T11:01:00.000Z",
              reasons: [
                { reason: "DAILY_TRADE_LIMIT", detail: "11 trades today reach the limit" },
                { reason: "ASSET_CONCENTRATION", detail: "ETH-USD already holds $500.00" },
              ],
            },
          ],
        },
      }),
    );
    expect(text).toMatch(/^Risk refusals {4}2: DAILY_TRADE_LIMIT 2 {2}ASSET_CONCENTRATION 1$/m);
    expect(text).toMatch(
      /^ {2}DAILY_TRADE_LIMIT +2 {2}first: BTC-USD at 2024-04-14T10:01Z, 10 trades today reach the limit$/m,
    );
    expect(text).toMatch(
      /^ {2}ASSET_CONCENTRATION +1 {2}first: ETH-USD at 2024-04-14T11:01Z, ETH-USD already holds \$500\.00$/m,
    );
  });

  it("prints orders in cents at the product's grid, and a failed order's reason", () => {
    const order = {
      orderId: "o",
      recommendationId: "r",
      venue: "paper" as const,
      type: "MARKET" as const,
      reconciled: true,
      updatedAt: "2024-04-14T01:01:00.000Z",
    };
    const text = formatSummary(
      summaryOf({
        orders: [
          {
            ...order,
            clientOrderId: "a",
            symbol: "UNI-USD",
            side: "BUY",
            status: "FILLED",
            filledSize: "14.757063",
            averageFilledPrice: "6.7360000000001",
            filledValue: "99.403576368",
            totalFees: "0.596421458208",
            createdAt: "2024-04-14T01:01:00.000Z",
          },
          {
            ...order,
            clientOrderId: "b",
            symbol: "ETC-USD",
            side: "BUY",
            status: "FAILED",
            filledSize: "0",
            averageFilledPrice: "0",
            filledValue: "0",
            totalFees: "0",
            failureReason: "INSUFFICIENT_FUND",
            createdAt: "2024-04-14T02:01:00.000Z",
          },
        ],
        priceIncrements: { "UNI-USD": "0.001" },
      }),
    );
    expect(text).toMatch(/^Orders {11}2 {2}\(fills 0, fees \$0\.60\)$/m);
    expect(text).toMatch(
      /^ {2}2024-04-14T01:01Z {2}BUY {2}UNI-USD {4}FILLED {4}14\.757063 @ 6\.736 = \$99\.40 {2}fees \$0\.60$/m,
    );
    expect(text).toMatch(
      /^ {2}2024-04-14T02:01Z {2}BUY {2}ETC-USD {4}FAILED {4}nothing filled: INSUFFICIENT_FUND$/m,
    );
  });
});
