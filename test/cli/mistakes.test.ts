/**
 * Every command, run as the user runs it, with each mistake a user makes: one line on stderr naming
 * the problem (with the input) and what to do, exit code 2, and no stack trace.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CommandName, commandLines, runCli, STACK_LINE } from "./support/run-command.js";

const scratch = mkdtempSync(join(tmpdir(), "cli-mistakes-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const NOWHERE = "/nonexistent/candles";
const MISSING_FOLDER =
  /candle folder \/nonexistent\/candles does not exist: give a folder of <BASE>-<QUOTE>_<granularity>\.csv files/;

/** The real interpreter without its site packages (-S) or environment (-I): numpy and co. are not found. */
const BARE_PYTHON = join(scratch, "bare-python3");
writeFileSync(BARE_PYTHON, '#!/bin/sh\nexec /usr/bin/python3 -I -S "$@"\n');
chmodSync(BARE_PYTHON, 0o755);

type Case = [CommandName, string, string[], Record<string, string>, RegExp];

const cases: Case[] = [
  // npm start
  [
    "npm start",
    "an unknown flag",
    ["--hour", "3"],
    {},
    /^unknown option --hour \(did you mean --hours\?\); see npm start -- --help$/,
  ],
  ["npm start", "a missing folder", ["--candles", NOWHERE], {}, MISSING_FOLDER],
  [
    "npm start",
    "an unknown symbol",
    ["--symbols", "FOO-USD"],
    {},
    /^--symbols FOO-USD: no 1h candle file for FOO-USD in data\/replay; choose from ADA-USD, /,
  ],
  [
    "npm start",
    "a bad setting",
    [],
    { TOP_N_SYMBOLS: "abc" },
    /^Invalid configuration: TOP_N_SYMBOLS="abc": expected a whole number/,
  ],
  [
    "npm start",
    "a trading mode that is none",
    [],
    { TRADING_MODE: "bogus" },
    /^Invalid configuration: TRADING_MODE="bogus": .*"paper"\|"live"/,
  ],
  [
    "npm start",
    "an empty window",
    ["--hours", "0"],
    {},
    /^--hours 0: give a positive whole number of hourly cycles, such as 24$/,
  ],
  // npm run backtest
  [
    "npm run backtest",
    "an unknown flag",
    ["--candle", "data/replay"],
    {},
    /^unknown option --candle \(did you mean --candles\?\); see npm run backtest -- --help$/,
  ],
  ["npm run backtest", "a missing folder", ["--candles", NOWHERE], {}, MISSING_FOLDER],
  [
    "npm run backtest",
    "a missing model file",
    ["--candles", "data/replay", "--model", "/nonexistent/m.onnx"],
    {},
    /^Signal model \/nonexistent\/m\.onnx cannot be loaded: the file does not exist\. Point/,
  ],
  [
    "npm run backtest",
    "an unknown symbol",
    ["--candles", "data/replay", "--symbols", "FOO-USDT"],
    {},
    /^no ONE_HOUR candle file in data\/replay for FOO-USD; available: ADA-USDT, /,
  ],
  [
    "npm run backtest",
    "a bad setting",
    ["--candles", "data/replay"],
    { PAPER_TAKER_FEE_BPS: "abc" },
    /^Invalid configuration: PAPER_TAKER_FEE_BPS="abc": expected basis points/,
  ],
  [
    "npm run backtest",
    "a reversed window",
    ["--candles", "data/replay", "--from", "2024-04-10", "--to", "2024-04-01"],
    {},
    /^--from 2024-04-10T00:00:00\.000Z is not before --to 2024-04-01T00:00:00\.000Z: the window \[from, to\) is reversed\. Give/,
  ],
  [
    "npm run backtest",
    "an empty window",
    ["--candles", "data/replay", "--from", "2030-01-01"],
    {},
    /^no candle of any symbol closes in the window \[2030-01-01T00:00:00\.000Z, the end of the data\): the candles close from .* Choose --from and --to inside that span\.$/,
  ],
  [
    "npm run backtest",
    "a date that is none",
    ["--candles", "data/replay", "--from", "yesterday"],
    {},
    /^--from yesterday is not an ISO date or time/,
  ],
  [
    "npm run backtest",
    "a replayed operator with --check-steps",
    ["--candles", "data/replay", "--check-steps", "--resume-kill-switch-after", "24"],
    {},
    /^--check-steps replays the live pipeline, which has no operator to resume its kill switch: drop --resume-kill-switch-after$/,
  ],
  [
    "npm run backtest",
    "an unknown sweep flag",
    ["--sweep", "grid.json", "--bogus"],
    {},
    /^unknown option --bogus$/,
  ],
  // npm run evaluate
  [
    "npm run evaluate",
    "an unknown flag",
    ["--modle", "x.onnx"],
    {},
    /^unknown option --modle \(did you mean --model\?\)/,
  ],
  [
    "npm run evaluate",
    "a missing required flag",
    ["--candles", "data/replay"],
    {},
    /^--model is required, such as --model models\/signal-model\.onnx/,
  ],
  [
    "npm run evaluate",
    "a missing folder",
    ["--model", "models/signal-model.onnx", "--candles", NOWHERE],
    {},
    MISSING_FOLDER,
  ],
  [
    "npm run evaluate",
    "an unknown symbol",
    [
      "--model",
      "models/signal-model.onnx",
      "--candles",
      "test/fixtures/model/candles",
      "--symbols",
      "FOO-USDT",
    ],
    {},
    /^no 1h candle file in test\/fixtures\/model\/candles for FOO-USDT; available: BTC-USDT, ETH-USDT$/,
  ],
  [
    "npm run evaluate",
    "a reversed window",
    [
      "--model",
      "models/signal-model.onnx",
      "--candles",
      "test/fixtures/model/candles",
      "--from",
      "2024-03-11",
      "--to",
      "2024-03-10",
    ],
    {},
    /is reversed\. Give a --from earlier than --to/,
  ],
  // npm run train
  [
    "npm run train",
    "an unknown flag",
    ["--quik"],
    {},
    /^unknown option --quik \(did you mean --quick\?\); see npm run train -- --help$/,
  ],
  ["npm run train", "a missing folder", ["--reuse-model", "--candles", NOWHERE], {}, MISSING_FOLDER],
  [
    "npm run train",
    "a bad value",
    ["--threads", "x"],
    {},
    /^--threads x is not a whole number of threads >= 1/,
  ],
  [
    "npm run train",
    "a missing interpreter",
    ["--python", "/nonexistent/python3"],
    {},
    /^cannot run \/nonexistent\/python3 \(ENOENT\): training needs Python 3 with numpy, xgboost, onnx; install Debian's python3 python3-numpy python3-xgboost python3-onnx/,
  ],
  // npm run bench
  [
    "npm run bench",
    "an unknown flag",
    ["--quik"],
    {},
    /^unknown option --quik \(did you mean --quick\?\); see npm run bench -- --help$/,
  ],
  [
    "npm run bench",
    "an unknown section",
    ["--only", "speed"],
    {},
    /^--only speed: unknown section\(s\) speed; choose from features,inference,cycle,init,backtest,sweep,chain$/,
  ],
  [
    "npm run bench",
    "a flag without its value",
    ["--out"],
    {},
    /^--out needs a value; see npm run bench -- --help$/,
  ],
  // npm run invoke
  [
    "npm run invoke",
    "an unknown flag",
    ["kill-switch", "--evnt", "x.json"],
    {},
    /^unknown option --evnt \(did you mean --event\?\)/,
  ],
  [
    "npm run invoke",
    "an unknown function",
    ["nope", "--event", "x.json"],
    {},
    /^"nope" is not a Lambda of the pipeline: choose one of market-data, /,
  ],
  [
    "npm run invoke",
    "a missing event file",
    ["portfolio", "--event", "/nonexistent/event.json"],
    {},
    /^cannot read the event file \/nonexistent\/event\.json \(ENOENT\): pass a file from events\/$/,
  ],
  [
    "npm run invoke",
    "a bad setting",
    ["kill-switch", "--event", "events/kill-switch.status.json"],
    { TOP_N_SYMBOLS: "abc" },
    /^Invalid configuration: TOP_N_SYMBOLS="abc"/,
  ],
  ...(["market-data", "signal-generator", "portfolio"] as const).map(
    (fn): Case => [
      "npm run invoke",
      `${fn} with its sample scheduled event's own (stale) time`,
      [fn, "--event", `events/${fn}.scheduled.json`, "--keep-event-time"],
      {},
      /^The event's time .* is \d+ days behind this function's clock .* To run at the current time, invoke with \{"action":"run"\}\.$/,
    ],
  ),
  // npm run synth, npm run asset-sizes
  [
    "npm run synth",
    "an unknown flag",
    ["--bogus"],
    {},
    /^unknown option --bogus; see npm run synth -- --help$/,
  ],
  [
    "npm run synth",
    "a context without a value",
    ["-c", "logLevel"],
    {},
    /^-c "logLevel": expected key=value, such as -c logLevel=DEBUG$/,
  ],
  [
    "npm run synth",
    "an unknown context key",
    ["-c", "nokey=1"],
    {},
    /^-c nokey=\.\.\.: nokey is not a context key of this app .*; use one of region, /,
  ],
  [
    "npm run synth",
    "a bad setting",
    ["-c", "logLevel=LOUD"],
    {},
    /^Invalid CDK context for the trading pipeline: logLevel: .* \(got "LOUD"\) Fix the value in cdk\.json or pass it with -c key=value/,
  ],
  [
    "npm run asset-sizes",
    "an unknown flag",
    ["--bogus"],
    {},
    /^unknown option --bogus; see npm run asset-sizes -- --help$/,
  ],
  [
    "npm run asset-sizes",
    "an unknown context key",
    ["-c", "nokey=1"],
    {},
    /^-c nokey=\.\.\.: nokey is not a context key/,
  ],
];

if (existsSync("/usr/bin/python3"))
  cases.push([
    "npm run train",
    "missing Python packages",
    ["--python", BARE_PYTHON, "--quick"],
    {},
    /^\S+bare-python3 cannot import numpy, xgboost, onnx, which training needs: sudo apt-get install python3-numpy python3-xgboost python3-onnx, or pass --python/,
  ]);

describe.concurrent("a user mistake is one line, exit code 2, no stack trace", () => {
  it.each(cases)(
    "%s: %s",
    async (command, _, args, env, message) => {
      const run = await runCli(command, args, env);
      const lines = commandLines(command, run);
      expect(lines, run.stderr).toHaveLength(1);
      expect(lines[0]!.startsWith(`${command}: `), run.stderr).toBe(true);
      expect(lines[0]!.slice(command.length + 2)).toMatch(message);
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(run.stdout).not.toMatch(STACK_LINE);
      expect(run.code, run.stderr).toBe(2);
    },
    150_000,
  );
});
