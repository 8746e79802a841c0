import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { renderReport } from "#backtest/report.js";
import { backtestCandles, LLM_VETO_NOTE } from "#backtest/run.js";
import { APRIL_CANDLES, shippedModel } from "#test/e2e/support.js";

const CHROMIUM = "/usr/bin/chromium";
/** the bit of HTMLCanvasElement read here (the test project has no DOM types) */
type Canvas = { width: number; height: number };
const dir = mkdtempSync(join(tmpdir(), "backtest-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the HTML report", () => {
  it.skipIf(!existsSync(CHROMIUM))(
    `renders its equity, drawdown and price charts in Chromium without page errors (skipped when ${CHROMIUM} is absent: apt-get install -y chromium)`,
    async () => {
      const model = await shippedModel();
      const result = await backtestCandles({
        candlesDir: APRIL_CANDLES,
        modelPath: resolve(import.meta.dirname, "../../models/signal-model.onnx"),
        model,
      });
      expect(result.trades.length).toBeGreaterThan(0);
      const path = join(dir, "report.html");
      writeFileSync(path, renderReport(result));

      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
          "--disable-quic",
        ],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        // the page is self-contained: any request would be to the network
        await page.route(/^(?!file:)/, (route) => {
          errors.push(`unexpected request ${route.request().url()}`);
          return route.abort();
        });
        await page.goto(pathToFileURL(path).href);
        await page.waitForFunction('document.querySelectorAll("#price canvas").length > 0');
        for (const id of ["equity", "drawdown", "price"]) {
          const sizes = await page.$$eval(`#${id} canvas`, (cs) =>
            cs.map((c) => [(c as unknown as Canvas).width, (c as unknown as Canvas).height]),
          );
          expect(sizes.length, id).toBeGreaterThan(0);
          expect(
            sizes.some(([w, h]) => w > 0 && h > 0),
            id,
          ).toBe(true);
        }
        expect(await page.textContent("[data-note]")).toBe(LLM_VETO_NOTE);
        expect(await page.$$eval("#symbol option", (o) => o.length)).toBeGreaterThan(0);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
