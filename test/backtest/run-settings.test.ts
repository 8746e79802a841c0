import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatSummary, resultJson } from "#backtest/format.js";
import { renderReport } from "#backtest/report.js";
import { backtestCandles } from "#backtest/run.js";
import { environmentSource, resolveSettings } from "#backtest/settings.js";
import { WindowError } from "#backtest/windows.js";
import type { SignalModel } from "#model/index.js";
import { APRIL_CANDLES, shippedModel } from "#test/e2e/support.js";
import { REPO_ROOT } from "#test/support/paths.js";

const MODEL_PATH = resolve(REPO_ROOT, "models/signal-model.onnx");

/** The shipped model with a card that says it was fitted until `finalFitTo` (the April fixture's middle). */
async function modelFittedUntil(finalFitTo: string): Promise<SignalModel> {
  const model = await shippedModel();
  const card = model.card!;
  return {
    ...model,
    card: { ...card, split: { ...card.split, finalFit: { ...card.split.finalFit, to: finalFitTo } } },
  };
}

describe("backtestCandles honours the live settings and the model card's split", () => {
  it("RISK_MAX_TRADES_PER_DAY=100 RECOMMENDATION_AMOUNT_USD=500 in the environment give another trade list, and the report lists them", async () => {
    const model = await shippedModel();
    const base = { candlesDir: APRIL_CANDLES, modelPath: MODEL_PATH, model };
    const defaults = await backtestCandles(base);
    const settings = resolveSettings([
      environmentSource({ RISK_MAX_TRADES_PER_DAY: "100", RECOMMENDATION_AMOUNT_USD: "500" }),
    ]);
    const changed = await backtestCandles({ ...base, settings });
    expect(defaults.trades.length).toBeGreaterThan(0);
    expect(changed.tradesSha256).not.toBe(defaults.tradesSha256);
    expect(changed.settings.bridge.amountUsd).toBe(500);
    expect(changed.settings.limits.maxTradesPerDay).toBe(100);
    expect(changed.settings.changed).toEqual([
      "RECOMMENDATION_AMOUNT_USD=500 (default 100; environment)",
      "RISK_MAX_TRADES_PER_DAY=100 (default 10; environment)",
    ]);
    expect(defaults.settings.changed).toEqual([]);

    const text = formatSummary(changed);
    expect(text).toContain(
      "settings that differ from the defaults: RECOMMENDATION_AMOUNT_USD=500 (default 100, from environment), RISK_MAX_TRADES_PER_DAY=100 (default 10, from environment)",
    );
    expect(text).toContain("*RISK_MAX_TRADES_PER_DAY=100");
    expect(text).toContain(" RISK_MAX_DRAWDOWN=0.15");
    expect(formatSummary(defaults)).toContain("settings: the live defaults");
    const json = JSON.parse(JSON.stringify(resultJson(changed)));
    expect(json.settings.variables).toContainEqual({
      name: "RISK_MAX_TRADES_PER_DAY",
      value: 100,
      default: 10,
      source: "environment",
      differs: true,
    });
    const html = renderReport(changed);
    expect(html).toMatch(
      /<tr class="changed"><th>\* RISK_MAX_TRADES_PER_DAY<\/th><td>100<\/td><td>10<\/td><td>environment<\/td>/,
    );
    expect(html).toContain("<th>RISK_MAX_DRAWDOWN</th><td>0.15</td>");
  });

  it("starts after the card's fitted data by default, and marks a window that overlaps it IN-SAMPLE in the text, the JSON and the HTML", async () => {
    const model = await modelFittedUntil("2024-04-12T00:00:00Z");
    const base = { candlesDir: APRIL_CANDLES, modelPath: MODEL_PATH, model };
    // 13 purged candles after the final fit
    const honest = await backtestCandles(base);
    expect(honest.window).toEqual({
      from: "2024-04-12T13:00:00.000Z",
      to: honest.window.to,
      fromChosen: "after the model's fitted data",
      firstUnseen: "2024-04-12T13:00:00.000Z",
    });
    expect(honest.span.firstCycle).toBe("2024-04-12T13:01:00.000Z");
    expect(formatSummary(honest)).not.toContain("IN-SAMPLE");
    expect(renderReport(honest)).not.toContain("data-in-sample");

    const from = Date.parse("2024-04-11T00:00:00Z") / 1000;
    const overlapping = await backtestCandles({ ...base, fromSec: from });
    const warning = overlapping.window.inSample!;
    expect(warning.from).toBe("2024-04-11T00:00:00.000Z");
    expect(warning.to).toBe("2024-04-12T13:00:00.000Z");
    expect(warning.share).toBeGreaterThan(0.3);
    const text = formatSummary(overlapping);
    expect(text.split("\n")[0]).toBe("!".repeat(100));
    expect(text).toContain("!! IN-SAMPLE: 2024-04-11T00:00:00.000Z .. 2024-04-12T13:00:00.000Z");
    expect(JSON.parse(JSON.stringify(resultJson(overlapping))).window.inSample.message).toBe(warning.message);
    expect(renderReport(overlapping)).toContain(
      `<div class="in-sample" role="alert" data-in-sample><strong>IN-SAMPLE:</strong> ${warning.message.replace(/^IN-SAMPLE: /, "").replace(/'/g, "&#39;")}</div>`,
    );
  });

  it("refuses a reversed window before reading any file, and an empty one after", async () => {
    const model = await shippedModel();
    await expect(
      backtestCandles({
        candlesDir: resolve(REPO_ROOT, "no-such-folder"),
        modelPath: MODEL_PATH,
        model,
        fromSec: Date.parse("2024-04-14T00:00:00Z") / 1000,
        toSec: Date.parse("2024-04-01T00:00:00Z") / 1000,
      }),
    ).rejects.toThrow(WindowError);
    await expect(
      backtestCandles({
        candlesDir: APRIL_CANDLES,
        modelPath: MODEL_PATH,
        model,
        fromSec: Date.parse("2024-06-01T00:00:00Z") / 1000,
        toSec: Date.parse("2024-07-01T00:00:00Z") / 1000,
      }),
    ).rejects.toThrow(
      /no candle of any symbol closes in the window \[2024-06-01T00:00:00\.000Z, 2024-07-01T00:00:00\.000Z\)/,
    );
  });
});
