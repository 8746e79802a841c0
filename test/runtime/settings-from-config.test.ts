import { describe, expect, it } from "vitest";
import { loadConfig } from "#config";
import { DEFAULT_PAPER_ACCOUNT } from "#defaults";
import {
  bridgeSettingsFromConfig,
  paperSettingsFromConfig,
  signalSettingsFromConfig,
} from "#runtime/settings-from-config.js";

describe("settings from the configuration (the handlers' and the backtest's one mapping)", () => {
  const config = loadConfig({
    CANDLE_GRANULARITY: "FIFTEEN_MINUTE",
    SIGNAL_BUY_THRESHOLD: "0.55",
    SIGNAL_SELL_THRESHOLD: "0.65",
    SIGNAL_TTL_DAYS: "7",
    BRIDGE_MIN_CONFIDENCE: "0.7",
    RECOMMENDATION_AMOUNT_USD: "250",
    BRIDGE_LOOKBACK_MINUTES: "30",
    BRIDGE_QUEUE_WINDOW_MINUTES: "90",
    BRIDGE_MAX_PER_CYCLE: "5",
    PAPER_STARTING_CASH_USD: "2500",
    PAPER_SLIPPAGE_BPS: "8",
    PAPER_TAKER_FEE_BPS: "50",
    PAPER_MAKER_FEE_BPS: "25",
  });

  it("signal-generator: granularity, thresholds, TTL", () => {
    expect(signalSettingsFromConfig(config)).toEqual({
      granularity: "FIFTEEN_MINUTE",
      thresholds: { buy: 0.55, sell: 0.65 },
      ttlDays: 7,
    });
  });

  it("signal-bridge: every BRIDGE_* and the amount", () => {
    expect(bridgeSettingsFromConfig(config)).toEqual({
      minConfidence: 0.7,
      amountUsd: 250,
      lookbackMinutes: 30,
      queueWindowMinutes: 90,
      maxPerCycle: 5,
    });
  });

  it("the paper venue: every PAPER_*, the fixed market impact", () => {
    expect(paperSettingsFromConfig(config)).toEqual({
      startingCashUsd: 2500,
      slippageBps: 8,
      impactCoefficient: DEFAULT_PAPER_ACCOUNT.impactCoefficient,
      takerFeeBps: 50,
      makerFeeBps: 25,
    });
  });
});
