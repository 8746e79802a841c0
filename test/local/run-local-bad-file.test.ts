/**
 * `npm start` over a candle folder where one file has a bad row: that symbol is left out with its
 * file:line, the others run (one symbol's bad data never stops the rest).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { APRIL_CANDLES } from "#test/e2e/support.js";

/** never the developer's `npm run local`: each run starts its own cloud */
const NO_RUNNING_CLOUD = "/nonexistent/local-cloud-state.json";
const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "run-local-bad-"));

describe("npm start with one unreadable candle file", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("leaves that symbol out with the file and line, and replays the others", () => {
    copyFileSync(join(APRIL_CANDLES, "AVAX-USDT_1h.csv"), join(dir, "AVAX-USDT_1h.csv"));
    const lines = readFileSync(join(APRIL_CANDLES, "LINK-USDT_1h.csv"), "utf8").split("\n");
    const cells = lines[100]!.split(",");
    cells[4] = String(-Number(cells[4])); // a negative close on line 101
    lines[100] = cells.join(",");
    writeFileSync(join(dir, "LINK-USDT_1h.csv"), lines.join("\n"));

    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "bin/run-local.ts",
        "--candles",
        dir,
        "--hours",
        "1",
        "--ollama-host",
        "http://127.0.0.1:9",
      ],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, TRADING_MODE: "", LOCAL_CLOUD_STATE_FILE: NO_RUNNING_CLOUD },
      },
    );
    expect(run.stderr).toMatch(/warning: LINK-USD left out of this run: .*LINK-USDT_1h\.csv:101/);
    expect(run.stdout).toMatch(/Replay: 1 symbols/);
    expect(run.status).toBe(0);
  }, 150_000);
});
