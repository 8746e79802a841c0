/**
 * The layering, read from the import graph: functions/ holds only deployed code (it never imports
 * the offline tools), the venue-neutral exchange/ port never imports a venue, and nothing imports in
 * a circle. Each rule names the offending file and specifier so the fix is obvious.
 */
import { describe, expect, it } from "vitest";
import { edgesBetween, importCycles, readImportGraph } from "#test/support/import-graph.js";
import { REPO_ROOT } from "#test/support/paths.js";

const graph = readImportGraph(REPO_ROOT);
const show = (edges: { from: string; specifier: string }[]) =>
  edges.map((e) => `${e.from} -> ${e.specifier}`);

describe("import graph", () => {
  it("is read from the sources: known edges are there, every repository import resolves", () => {
    expect(graph.files.length).toBeGreaterThan(100);
    const executeTrade = graph.edges.filter((e) => e.from === "functions/shared/steps/execute-trade.ts");
    expect(executeTrade.map((e) => e.to)).toContain("functions/shared/exchange/exchange.ts");
    expect(show(graph.edges.filter((e) => e.to === undefined))).toEqual([]);
  });

  it("functions/ (deployed code) imports nothing from backtest/, bench/, local/, bin/ or test/", () => {
    const offline = ["backtest", "bench", "local", "bin", "test"];
    expect(show(edgesBetween(graph, ["functions"], offline))).toEqual([]);
  });

  it("functions/ holds only deployed code: no backtest, bench or local tool lives under it", () => {
    expect(graph.files.filter((f) => /^functions\/shared\/(backtest|bench)\//.test(f))).toEqual([]);
    expect(
      graph.files.filter((f) => /^infra\/(local-invoke|sample-events|asset-sizes)\.ts$/.test(f)),
    ).toEqual([]);
  });

  it("the rules see an offending edge (a synthetic graph)", () => {
    const synthetic = {
      files: [
        "functions/a.ts",
        "bench/b.ts",
        "functions/shared/exchange/c.ts",
        "functions/shared/coinbase/d.ts",
      ],
      edges: [
        { from: "functions/a.ts", specifier: "#bench/b.js", to: "bench/b.ts" },
        {
          from: "functions/shared/exchange/c.ts",
          specifier: "#coinbase/d.js",
          to: "functions/shared/coinbase/d.ts",
        },
        {
          from: "functions/shared/coinbase/d.ts",
          specifier: "#exchange/c.js",
          to: "functions/shared/exchange/c.ts",
        },
      ],
    };
    expect(show(edgesBetween(synthetic, ["functions"], ["bench"]))).toEqual([
      "functions/a.ts -> #bench/b.js",
    ]);
    expect(importCycles(synthetic)).toEqual([
      ["functions/shared/coinbase/d.ts", "functions/shared/exchange/c.ts"],
    ]);
  });

  it("the neutral exchange/ port and paper venue import nothing from coinbase/", () => {
    const edges = edgesBetween(graph, ["functions/shared/exchange"], ["functions/shared/coinbase"]);
    expect(show(edges)).toEqual([]);
  });

  it("has no import cycles", () => {
    expect(importCycles(graph)).toEqual([]);
  });
});
