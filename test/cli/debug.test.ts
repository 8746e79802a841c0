/**
 * --debug adds the stack trace to the one line; a failure that is not the user's (here: no answer
 * from the venue) is one line too, exit code 1, pointing at --debug.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandLines, runCli, STACK_LINE } from "./support/run-command.js";

const scratch = mkdtempSync(join(tmpdir(), "cli-debug-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.concurrent("--debug and failures that are not mistakes", () => {
  it("a mistake with --debug: the same line, then the stack trace", async () => {
    const args = ["--candles", "data/replay", "--from", "2024-04-10", "--to", "2024-04-01"];
    const plain = await runCli("npm run backtest", args);
    const debug = await runCli("npm run backtest", [...args, "--debug"]);
    expect(debug.code).toBe(2);
    expect(commandLines("npm run backtest", debug)).toEqual(commandLines("npm run backtest", plain));
    expect(plain.stderr).not.toMatch(STACK_LINE);
    expect(debug.stderr).toMatch(/^WindowError: --from 2024-04-10/m);
    expect(debug.stderr).toMatch(STACK_LINE);
  }, 150_000);

  it("a venue that does not answer a GET: one line naming the request and the network, exit 1", async () => {
    const event = join(scratch, "run-now.json");
    writeFileSync(event, JSON.stringify({ action: "run" }));
    const run = await runCli("npm run invoke", ["market-data", "--event", event]);
    const lines = commandLines("npm run invoke", run);
    expect(lines, run.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^npm run invoke failed: Coinbase GET \S+ got no answer after \d+ attempts \(.*\)\. Check the network and COINBASE_API_BASE_URL, then retry\. \(run again with --debug for the stack trace\)$/,
    );
    expect(lines[0]).not.toContain("client_order_id");
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(run.code).toBe(1);
  }, 150_000);
});
