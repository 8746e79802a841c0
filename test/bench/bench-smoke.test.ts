import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBacktestHook } from "#bench/backtest-hook.js";
import { formatTable, judge } from "#bench/figures.js";
import { percentile, summarizeLatencies } from "#bench/stats.js";
import { type BenchReport, parseBenchArgs, runBench } from "#bin/bench.js";

const scratch = mkdtempSync(join(tmpdir(), "bench-smoke-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("npm run bench (quick, cheap sections)", () => {
  it("measures inference and the warm cycle on real rows and writes the same report as JSON", async () => {
    const outPath = join(scratch, "bench.json");
    const options = { ...parseBenchArgs(["--quick", "--only", "inference,cycle", "--out", outPath]) };
    const report = await runBench(options);

    expect(report.notes).toEqual([]);
    expect(report.figures.map((f) => f.name)).toEqual([
      "inference.batch20.p50",
      "inference.batch20.p99",
      "inference.rows_per_s",
      "cycle.symbols20.p50",
      "cycle.symbols20.p99",
      "cycle.symbols20.inference_mean",
    ]);
    for (const f of report.figures) {
      expect(Number.isFinite(f.value) && f.value > 0, f.name).toBe(true);
      expect(f.verdict === undefined, f.name).toBe(f.target === undefined);
    }
    const p50 = report.figures.find((f) => f.name === "cycle.symbols20.p50")!;
    const p99 = report.figures.find((f) => f.name === "cycle.symbols20.p99")!;
    expect(p99.value).toBeGreaterThanOrEqual(p50.value);
    expect(report.machine.candleDir).toMatch(/candles|replay/);

    const written = JSON.parse(readFileSync(outPath, "utf8")) as BenchReport;
    expect(written).toEqual(JSON.parse(JSON.stringify(report)));
  }, 20_000);
});

describe("cold init (one run of each variant)", () => {
  it("bundles the init path and the handler, and times each fresh process to model ready", async () => {
    const report = await runBench(
      parseBenchArgs(["--quick", "--only", "init", "--out", join(scratch, "init.json")]),
    );
    expect(report.notes).toEqual([]);
    expect(report.figures.map((f) => f.name)).toEqual([
      "init.tsx.model.ready",
      "init.tsx.model.imports_done",
      "init.bundle.model.ready",
      "init.bundle.model.imports_done",
      "init.bundle.handler.ready",
    ]);
    for (const f of report.figures) expect(Number.isFinite(f.value) && f.value > 0, f.name).toBe(true);
    const bundled = report.figures.filter(
      (f) => f.name.startsWith("init.bundle.") && f.name.endsWith(".ready"),
    );
    expect(bundled.every((f) => f.target?.value === 500 && f.verdict !== undefined)).toBe(true);
  }, 30_000);
});

describe("bench arguments", () => {
  it("rejects an unknown section with the list of valid ones", () => {
    expect(() => parseBenchArgs(["--only", "features,speed"])).toThrow(
      /unknown section\(s\) speed.*features,inference/,
    );
  });
  it("accepts --only=a,b and keeps every section by default", () => {
    expect(parseBenchArgs(["--only=cycle,init"]).only).toEqual(["cycle", "init"]);
    expect(parseBenchArgs([]).only).toEqual([
      "features",
      "inference",
      "cycle",
      "init",
      "backtest",
      "sweep",
      "chain",
    ]);
  });
});

describe("backtest hook", () => {
  it("says the backtest is not available when no module exports benchBacktest", async () => {
    const root = join(scratch, "empty-project");
    mkdirSync(join(root, "bin"), { recursive: true });
    writeFileSync(join(root, "bin/backtest.ts"), "console.log('a CLI that must not run');\n");
    const hook = await runBacktestHook(root, true);
    expect(hook.available).toBe(false);
  });
  it("reports the figures benchBacktest returns, unchanged", async () => {
    const root = join(scratch, "with-backtest");
    mkdirSync(join(root, "bench"), { recursive: true });
    writeFileSync(
      join(root, "bench/backtest.ts"),
      "export async function benchBacktest(o: { quick: boolean }) { return [{ name: 'backtest.quick', value: o.quick ? 1 : 0, unit: 'flag' }]; }\n",
    );
    const hook = await runBacktestHook(root, true);
    expect(hook).toEqual({
      available: true,
      source: "bench/backtest.ts",
      figures: [{ name: "backtest.quick", value: 1, unit: "flag" }],
    });
  });
});

describe("figures and statistics", () => {
  it("judges a figure against its target and prints both", () => {
    const fast = judge({ name: "x", value: 12, unit: "ms", target: { comparison: "<", value: 20 } });
    const slow = judge({
      name: "y",
      value: 1_500_000,
      unit: "candles/s",
      target: { comparison: ">=", value: 2e6 },
    });
    expect([fast.verdict, slow.verdict]).toEqual(["PASS", "MISS"]);
    const table = formatTable([fast, slow], ["backtest: not available in this build"]);
    expect(table).toMatch(/x\s+12\.00\s+< 20\.00\s+PASS/);
    expect(table).toMatch(/y\s+1,500,000\s+>= 2,000,000\s+MISS/);
    expect(table).toContain("note: backtest: not available in this build");
  });
  it("takes nearest-rank percentiles", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(Float64Array.from(samples).sort(), 0.5)).toBe(50);
    expect(summarizeLatencies(samples)).toEqual({ runs: 100, p50: 50, p99: 99, min: 1, max: 100 });
  });
});
