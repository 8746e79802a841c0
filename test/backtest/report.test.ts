import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport } from "#backtest/report.js";
import type { ReportData } from "#backtest/report-data.js";
import { symbolFormat } from "#backtest/report-format.js";
import { type BacktestResult, backtestCandles, LLM_VETO_NOTE } from "#backtest/run.js";
import { APRIL_CANDLES, shippedModel } from "#test/e2e/support.js";
import { launchChromium, watchPage } from "#test/support/chromium.js";
import { REPO_ROOT } from "#test/support/paths.js";

/** gitignored; CI keeps it as an artifact */
const SCREENSHOT = resolve(REPO_ROOT, "artifacts/backtest-report.png");
const CHARTS = ["returns", "drawdown", "price"] as const;
const dir = mkdtempSync(join(tmpdir(), "backtest-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The April fixture replayed from 2024-04-11 by the shipped model with a card that says it was fitted
 * until 2024-04-12: trades, and a window that is partly IN-SAMPLE.
 */
async function inSampleBacktest(): Promise<BacktestResult> {
  const model = await shippedModel();
  const card = model.card!;
  return backtestCandles({
    candlesDir: APRIL_CANDLES,
    modelPath: resolve(REPO_ROOT, "models/signal-model.onnx"),
    model: {
      ...model,
      card: {
        ...card,
        split: { ...card.split, finalFit: { ...card.split.finalFit, to: "2024-04-12T00:00:00Z" } },
      },
    },
    fromSec: Date.parse("2024-04-11T00:00:00Z") / 1000,
  });
}

/** Elements of each chart box that reach outside it, by more than half a pixel. */
function overflowing(page: Page) {
  return page.evaluate((ids) => {
    const out: string[] = [];
    for (const id of ids) {
      const box = document.getElementById(id)!.getBoundingClientRect();
      for (const el of document.getElementById(id)!.querySelectorAll("*")) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (
          r.left < box.left - 0.5 ||
          r.top < box.top - 0.5 ||
          r.right > box.right + 0.5 ||
          r.bottom > box.bottom + 0.5
        )
          out.push(
            `#${id} ${el.tagName} [${r.left},${r.top},${r.right},${r.bottom}] outside [${box.left},${box.top},${box.right},${box.bottom}]`,
          );
      }
    }
    return out;
  }, CHARTS);
}

type Range = { from: number; to: number };
/** the bits of lightweight-charts' API and of window.report read here (the test project has no DOM types) */
interface PageSeries {
  data(): readonly { time: number; value: number }[];
  priceToCoordinate(price: number): number | null;
  coordinateToPrice(y: number): number | null;
  priceFormatter(): { format(price: number): string };
}
interface PageChart {
  timeScale(): { getVisibleRange(): Range; timeToCoordinate(time: number): number | null };
  priceScale(id: "right"): { getVisibleRange(): Range; options(): { mode: number } };
  paneSize(): { width: number; height: number };
}
interface PageElement {
  tagName: string;
  getBoundingClientRect(): {
    left: number;
    top: number;
    right: number;
    bottom: number;
    width: number;
    height: number;
  };
  querySelectorAll(selector: string): Iterable<PageElement>;
}
/** the page's globals, as this test reads them inside page.evaluate */
declare const document: { getElementById(id: string): PageElement | null };
declare const window: PageWindow;
declare function requestAnimationFrame(callback: () => void): number;
interface PageWindow {
  report: {
    data: ReportData;
    show(symbol: string): void;
    charts: Record<string, { chart: PageChart; series: PageSeries[] }>;
  };
}
interface ChartFacts {
  /** whether the price axis is logarithmic */
  log: boolean;
  /** the values the price axis shows at the pane's top and bottom edges */
  top: number;
  bottom: number;
  /** the min/max of the data it plots */
  data: Range;
  /** the time axis's range and the first/last time of the data */
  time: Range;
  dataTime: Range;
  /** the data's extremes in pane pixels, and the pane */
  extremesY: number[];
  pane: { width: number; height: number };
}

/** What each chart's axes show, and the data they plot (read through window.report). */
function chartFacts(page: Page): Promise<Record<string, ChartFacts>> {
  return page.evaluate(() => {
    const out: Record<string, ChartFacts> = {};
    for (const [id, c] of Object.entries(window.report.charts)) {
      const points = c.series.flatMap((s) => s.data());
      const values = points.map((p) => p.value);
      const times = points.map((p) => p.time);
      const min = Math.min(...values);
      const max = Math.max(...values);
      const pane = c.chart.paneSize();
      const time = c.chart.timeScale().getVisibleRange();
      out[id] = {
        log: c.chart.priceScale("right").options().mode === 1,
        top: c.series[0].coordinateToPrice(0)!,
        bottom: c.series[0].coordinateToPrice(pane.height)!,
        data: { from: min, to: max },
        time: { from: time.from, to: time.to },
        dataTime: { from: Math.min(...times), to: Math.max(...times) },
        extremesY: [c.series[0].priceToCoordinate(min)!, c.series[0].priceToCoordinate(max)!],
        pane,
      };
    }
    return out;
  });
}

describe("the HTML report in Chromium", () => {
  let result: BacktestResult;
  let html: string;
  beforeAll(async () => {
    result = await inSampleBacktest();
    html = renderReport(result);
  });

  it("is self-contained and formats its numbers: no float noise, money in cents, prices at the increment", () => {
    expect(result.trades.length).toBeGreaterThan(0);
    expect(result.window.inSample).toBeDefined();
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link[^>]*stylesheet/);
    expect(html).toContain("attributionLogo: false");
    const rows = [...html.matchAll(/<table class="grid" data-trades>([\s\S]*?)<\/table>/g)][0][1];
    for (const cells of rows.matchAll(/<tr>((?:<td>[^<]*<\/td>)+)<\/tr>/g)) {
      const [, , , , , fee, , , pnl] = [...cells[1].matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
      expect(fee).toMatch(/^\$\d+\.\d{2}$/);
      if (pnl) expect(pnl).toMatch(/^(?:[+-]\$[\d,]+\.\d{2}|\$0\.00)$/);
    }
  });

  it("lays out the returns (log, %), drawdown and price charts inside their boxes, fills visible, axes from the data", async () => {
    const path = join(dir, "report.html");
    writeFileSync(path, html);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems = await watchPage(page);
      await page.goto(pathToFileURL(path).href);
      await page.waitForFunction('document.querySelectorAll("#price canvas").length > 0');
      await page.evaluate(
        () => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))),
      );

      expect(await page.isVisible("[data-in-sample]")).toBe(true);
      expect(await page.textContent("[data-note]")).toBe(LLM_VETO_NOTE);
      // the chart library's logo is off (it covered the first fills); the footer links to TradingView
      expect(await page.$$eval(".chart a", (a) => a.length)).toBe(0);
      expect(await page.getAttribute("footer a", "href")).toBe("https://www.tradingview.com/");
      expect(await overflowing(page)).toEqual([]);

      // returns: a log axis of growth factors, labelled as returns in %
      const returns = await page.evaluate(() => {
        const c = window.report.charts.returns;
        const f = c.series[0].priceFormatter();
        return {
          mode: c.chart.priceScale("right").options().mode,
          labels: [f.format(1.1), f.format(0.95), f.format(1)],
        };
      });
      expect(returns).toEqual({ mode: 1, labels: ["+10.00%", "\u22125.00%", "0.00%"] });

      const facts = await chartFacts(page);
      expect(CHARTS.map((id) => facts[id].log)).toEqual([true, false, true]);
      for (const id of CHARTS) {
        const { log, top, bottom, data, time, dataTime, extremesY, pane } = facts[id];
        // in the axis's own space (log or linear) the axis runs at most 10% of the data's span past it
        if (log) expect(bottom, `${id}: a log axis shows only positive values`).toBeGreaterThan(0);
        const f = log ? Math.log : (x: number) => x;
        const span = Math.max(f(data.to) - f(data.from), Math.abs(f(data.to)) * 0.01, 1e-9);
        expect(f(top), `${id}: the axis's top is the data's maximum and a margin`).toBeLessThanOrEqual(
          f(data.to) + 0.1 * span,
        );
        expect(
          f(bottom),
          `${id}: the axis's bottom is the data's minimum less a margin`,
        ).toBeGreaterThanOrEqual(f(data.from) - 0.1 * span);
        expect(time, `${id}: the time axis spans its data`).toEqual(dataTime);
        for (const y of extremesY) {
          expect(y, `${id}: the data's extremes are inside the pane`).toBeGreaterThanOrEqual(0);
          expect(y).toBeLessThanOrEqual(pane.height);
        }
      }
      // a drawdown is never above 0: the axis tops out at 0 and a small margin
      expect(facts.drawdown.data.to).toBe(0);

      // every fill of every traded symbol lands inside the plot area
      const symbols = await page.$$eval("#symbol option", (o) =>
        o.map((e) => (e as unknown as { value: string }).value),
      );
      expect(symbols.length).toBeGreaterThan(0);
      for (const symbol of symbols) {
        const placed = await page.evaluate((s) => {
          const { charts, data, show } = window.report;
          show(s);
          const { chart, series } = charts.price;
          const pane = chart.paneSize();
          return data.symbols
            .find((x) => x.id === s)!
            .markers.map((m) => ({
              text: m.text,
              price: m.price,
              label: series[0].priceFormatter().format(m.price),
              x: chart.timeScale().timeToCoordinate(m.time),
              y: series[0].priceToCoordinate(m.price),
              width: pane.width,
              height: pane.height,
            }));
        }, symbol);
        expect(placed.length, symbol).toBeGreaterThan(0);
        // the price axis is labelled at the product's increment
        const { priceDecimals } = symbolFormat(symbol);
        for (const m of placed) {
          expect(m.label, symbol).toBe(m.price.toFixed(priceDecimals));
          expect(m.x, `${symbol} ${m.text}`).not.toBeNull();
          expect(m.x).toBeGreaterThanOrEqual(0);
          expect(m.x).toBeLessThanOrEqual(m.width);
          expect(m.y).toBeGreaterThanOrEqual(0);
          expect(m.y).toBeLessThanOrEqual(m.height);
        }
      }

      // pointing at a fill describes it in the legend, formatted
      await page.selectOption("#symbol", symbols[0]);
      const first = await page.evaluate(() => {
        const { charts, data } = window.report;
        const m = data.symbols[0].markers[0];
        return { text: m.text, x: charts.price.chart.timeScale().timeToCoordinate(m.time) };
      });
      await page.locator("#price").scrollIntoViewIfNeeded();
      const box = (await page.locator("#price").boundingBox())!;
      await page.mouse.move(box.x + first.x!, box.y + 40);
      await expect.poll(() => page.textContent("#price-legend")).toContain(first.text);
      expect(first.text).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} (BUY|SELL) [\d,.]+ @ [\d,.]+/);

      const text = await page.innerText("body");
      expect(text.match(/\d\.\d*(?:[1-9]0{6,}[1-9]|[0-8]9{6,}\d)/g) ?? [], "float noise").toEqual([]);
      expect(problems).toEqual([]);

      mkdirSync(resolve(SCREENSHOT, ".."), { recursive: true });
      await page.mouse.move(0, 0);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
