/**
 * The candle CSV reader refuses what would silently change the candles: blank lines, empty fields,
 * prices that break OHLC consistency. Each refusal names file:line. No shared data needed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readCandleColumns } from "#market-data/replay.js";

const HEADER = "timestamp,open,high,low,close,volume";
const GOOD = "3600,1,2,0.5,1.5,10";
const NEXT = "10800,1,2,0.5,1.5,10";
const dir = mkdtempSync(join(tmpdir(), "candle-rows-"));
const file = join(dir, "AAA-USDT_1h.csv");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(text: string): string {
  writeFileSync(file, text);
  try {
    readCandleColumns(file);
  } catch (error) {
    return (error as Error).message;
  }
  return "(accepted)";
}

describe("candle CSV rows", () => {
  it.each([
    ["between two candles", `${HEADER}\n${GOOD}\n\n${NEXT}\n`, 3],
    ["with CRLF line ends", `${HEADER}\r\n${GOOD}\r\n\r\n${NEXT}\r\n`, 3],
    ["right after the header", `${HEADER}\n\n${GOOD}\n`, 2],
    ["at the end of the file", `${HEADER}\n${GOOD}\n\n`, 3],
  ])("refuses a blank line %s, naming file:line", (_, text, line) => {
    expect(refusal(text)).toBe(
      `${file}:${line}: blank line; remove it (each line after the header must be one candle: ${HEADER})`,
    );
  });

  it("accepts a file that ends with or without its last newline", () => {
    writeFileSync(file, `${HEADER}\n${GOOD}\n${NEXT}\n`);
    expect(readCandleColumns(file).length).toBe(2);
    writeFileSync(file, `${HEADER}\n${GOOD}\n${NEXT}`);
    expect(readCandleColumns(file).length).toBe(2);
  });

  it.each([
    ["an empty close", "7200,1,2,0.5,,10", /:3: field close is not a number$/],
    ["an empty volume", "7200,1,2,0.5,1.5,", /:3: field volume is not a number$/],
    ["a negative close", "7200,1,2,0.5,-1.5,10", /:3: not a valid candle \(close: .*>0/],
    [
      "a close 1000 times the high",
      "7200,1,2,0.5,1500,10",
      /:3: not a valid candle \(.*bracket open and close/,
    ],
    ["an open below the low", "7200,0.4,2,0.5,1.5,10", /:3: not a valid candle \(.*bracket open and close/],
    ["a negative volume", "7200,1,2,0.5,1.5,-1", /:3: not a valid candle \(volume: .*>=0/],
  ])("refuses %s, naming file:line", (_, row, rule) => {
    const message = refusal(`${HEADER}\n${GOOD}\n${row}\n${NEXT}\n`);
    expect(message.startsWith(`${file}:3: `)).toBe(true);
    expect(message).toMatch(rule);
  });
});
