import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "#config";
import { DEFAULT_EXIT_SETTINGS } from "#defaults";
import { exitSettingsFrom } from "#exits/exit-config.js";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import { REPO_ROOT } from "#test/support/paths.js";

describe("exit settings from the configuration", () => {
  it("the defaults are DEFAULT_EXITS", () => {
    expect(exitSettingsFrom(loadConfig({}))).toEqual(DEFAULT_EXITS);
  });

  it("the default time limit is the model card's label horizon", () => {
    const card = JSON.parse(readFileSync(path.join(REPO_ROOT, "models/signal-model.card.json"), "utf8")) as {
      label: { horizonCandles: number };
    };
    expect(DEFAULT_EXIT_SETTINGS.timeLimitCandles).toBe(card.label.horizonCandles);
  });

  it("reads every EXIT_* variable and KILL_SWITCH_FLATTEN", () => {
    const settings = exitSettingsFrom(
      loadConfig({
        EXIT_TAKE_PROFIT_LADDER: "1.5:0.25,3:0.75",
        EXIT_TRAILING_ACTIVATION_R: "2",
        EXIT_TRAILING_DISTANCE_R: "0.5",
        EXIT_TIME_LIMIT_CANDLES: "24",
        EXIT_ON_SELL_SIGNAL: "false",
        KILL_SWITCH_FLATTEN: "true",
        EXIT_STOP_LIMIT_OFFSET: "0.02",
      }),
    );
    expect(settings).toEqual({
      takeProfitLadder: [
        { atR: 1.5, share: 0.25 },
        { atR: 3, share: 0.75 },
      ],
      trailing: { activationR: 2, distanceR: 0.5 },
      timeLimitCandles: 24,
      exitOnSellSignal: false,
      flattenOnKillSwitch: true,
      stopLimitOffset: 0.02,
    });
  });

  it("none means no targets; an activation of 0 means no trailing stop", () => {
    const settings = exitSettingsFrom(
      loadConfig({ EXIT_TAKE_PROFIT_LADDER: "none", EXIT_TRAILING_ACTIVATION_R: "0" }),
    );
    expect(settings.takeProfitLadder).toEqual([]);
    expect(settings.trailing).toBeUndefined();
  });

  it("a bad ladder names the variable, the value and the problem", () => {
    expect(() => loadConfig({ EXIT_TAKE_PROFIT_LADDER: "2:0.5,1:0.5" })).toThrow(
      /EXIT_TAKE_PROFIT_LADDER="2:0.5,1:0.5": leg 2: the targets must rise.*expected atR:share/,
    );
  });
});
