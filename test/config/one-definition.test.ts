/**
 * Every seed default is written once (functions/shared/defaults.ts, risk limits in
 * risk/limits.ts): the configuration's defaults are those constants, and no other source file
 * writes the values out again where they could drift apart.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "#config";
import {
  DEFAULT_BRIDGE_SETTINGS,
  DEFAULT_DECISION_THRESHOLDS,
  DEFAULT_GRANULARITY,
  DEFAULT_PAPER_ACCOUNT,
  DEFAULT_PRICE_BAND,
  DEFAULT_SIGNAL_TTL_DAYS,
} from "#defaults";
import { DEFAULT_RISK_LIMITS } from "#risk/limits.js";
import { REPO_ROOT } from "#test/support/paths.js";

describe("one definition of each default", () => {
  it("gives the configuration the defaults the backtest, the local runner and training use", () => {
    const c = ConfigSchema.parse({});
    expect({ buy: c.SIGNAL_BUY_THRESHOLD, sell: c.SIGNAL_SELL_THRESHOLD }).toEqual(
      DEFAULT_DECISION_THRESHOLDS,
    );
    expect(c.CANDLE_GRANULARITY).toBe(DEFAULT_GRANULARITY);
    expect(c.SIGNAL_TTL_DAYS).toBe(DEFAULT_SIGNAL_TTL_DAYS);
    expect({
      minConfidence: c.BRIDGE_MIN_CONFIDENCE,
      amountUsd: c.RECOMMENDATION_AMOUNT_USD,
      lookbackMinutes: c.BRIDGE_LOOKBACK_MINUTES,
      queueWindowMinutes: c.BRIDGE_QUEUE_WINDOW_MINUTES,
      maxPerCycle: c.BRIDGE_MAX_PER_CYCLE,
    }).toEqual(DEFAULT_BRIDGE_SETTINGS);
    expect({
      startingCashUsd: c.PAPER_STARTING_CASH_USD,
      slippageBps: c.PAPER_SLIPPAGE_BPS,
      takerFeeBps: c.PAPER_TAKER_FEE_BPS,
      makerFeeBps: c.PAPER_MAKER_FEE_BPS,
    }).toEqual({
      startingCashUsd: DEFAULT_PAPER_ACCOUNT.startingCashUsd,
      slippageBps: DEFAULT_PAPER_ACCOUNT.slippageBps,
      takerFeeBps: DEFAULT_PAPER_ACCOUNT.takerFeeBps,
      makerFeeBps: DEFAULT_PAPER_ACCOUNT.makerFeeBps,
    });
    expect({
      maxAssetFraction: c.RISK_MAX_ASSET_FRACTION,
      maxTotalExposure: c.RISK_MAX_TOTAL_EXPOSURE,
      maxRiskPerTrade: c.RISK_MAX_RISK_PER_TRADE,
      maxTradesPerDay: c.RISK_MAX_TRADES_PER_DAY,
      maxDailyLoss: c.RISK_MAX_DAILY_LOSS,
      maxDrawdown: c.RISK_MAX_DRAWDOWN,
      kellyFraction: c.RISK_KELLY_FRACTION,
    }).toEqual({
      maxAssetFraction: DEFAULT_RISK_LIMITS.maxAssetFraction,
      maxTotalExposure: DEFAULT_RISK_LIMITS.maxTotalExposure,
      maxRiskPerTrade: DEFAULT_RISK_LIMITS.maxRiskPerTrade,
      maxTradesPerDay: DEFAULT_RISK_LIMITS.maxTradesPerDay,
      maxDailyLoss: DEFAULT_RISK_LIMITS.maxDailyLoss,
      maxDrawdown: DEFAULT_RISK_LIMITS.maxDrawdown,
      kellyFraction: DEFAULT_RISK_LIMITS.kellyFraction,
    });
    expect(c.EXECUTION_PRICE_BAND).toBe(DEFAULT_PRICE_BAND);
  });

  /** A default written out again, and where its one definition lives. */
  const COPIES: { what: string; pattern: RegExp }[] = [
    {
      what: "decision thresholds (DEFAULT_DECISION_THRESHOLDS)",
      pattern: /\{\s*buy:\s*0\.5,\s*sell:\s*0\.6\s*\}/,
    },
    { what: "metrics namespace (METRICS_NAMESPACE)", pattern: /NAMESPACE\b[^\n]*["'`]TradingPipeline["'`]/ },
    { what: "signal TTL (DEFAULT_SIGNAL_TTL_DAYS)", pattern: /ttlDays:\s*\d/ },
    {
      what: "bridge settings (DEFAULT_BRIDGE_SETTINGS)",
      pattern: /minConfidence:\s*0\.\d|maxPerCycle:\s*\d/,
    },
    {
      what: "paper costs (DEFAULT_PAPER_ACCOUNT)",
      pattern:
        /(?:spreadBps|slippageBps|takerFeeBps|makerFeeBps|impactCoefficient):\s*\d|paperSpreadBps \?\? \d/,
    },
    { what: "starting cash (DEFAULT_PAPER_ACCOUNT)", pattern: /startingCashUsd\s*(?:\?\?|:)\s*\d/ },
    { what: "price band (DEFAULT_PRICE_BAND)", pattern: /priceBand:\s*\d/ },
    { what: "granularity (DEFAULT_GRANULARITY)", pattern: /granularity\s*\?\?\s*["']/ },
  ];
  const DEFINITIONS = new Set(["functions/shared/defaults.ts"]);
  /** the shipped code: every folder but tests, data and dependencies */
  const ROOTS = ["functions", "infra", "local", "bin", "models", "backtest", "bench"];

  function sourceFiles(dir: string): string[] {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return [];
    }
    return entries.flatMap((name) => {
      const full = path.join(dir, name);
      if (name === "node_modules") return [];
      if (statSync(full).isDirectory()) return sourceFiles(full);
      return /\.(?:ts|mts|mjs|js)$/.test(name) ? [full] : [];
    });
  }

  it("writes no default out again outside its definition", () => {
    const files = ROOTS.flatMap((root) => sourceFiles(path.join(REPO_ROOT, root)));
    expect(files.length).toBeGreaterThan(100);
    const copies: string[] = [];
    for (const file of files) {
      const relative = path.relative(REPO_ROOT, file).split(path.sep).join("/");
      if (DEFINITIONS.has(relative)) continue;
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          for (const { what, pattern } of COPIES)
            if (pattern.test(line))
              copies.push(`${relative}:${i + 1} writes the ${what} again: ${line.trim()}`);
        });
    }
    expect(copies).toEqual([]);
  });
});
