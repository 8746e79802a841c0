import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chooseLocalTrading, LocalRunRefused } from "#local/trading-mode.js";
import { es256TestKey, escapedNewlines } from "#test/coinbase/test-keys.js";

const key = es256TestKey();
const dir = mkdtempSync(join(tmpdir(), "trading-mode-"));
const keyPath = join(dir, "cdp_api_key.json");
writeFileSync(keyPath, `{"name":"${key.name}","privateKey":"${escapedNewlines(key.sec1Pem)}"}`, {
  mode: 0o600,
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FAKE = "http://127.0.0.1:4010/api/v3/brokerage";
const LIVE = { live: true, confirmed: true };
const liveEnv = { COINBASE_API_BASE_URL: FAKE, COINBASE_KEY_FILE: keyPath };

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LocalRunRefused);
  const message = (error as Error).message;
  expect(message).not.toContain("\n");
  for (const line of key.sec1Pem.split("\n").filter((l) => l && !l.startsWith("-----")))
    expect(message).not.toContain(line);
  return message;
}

describe("npm start's paper/live switch", () => {
  it("is paper without --live, even when the environment says TRADING_MODE=live", async () => {
    const trading = await chooseLocalTrading(
      { live: false, confirmed: true },
      { ...liveEnv, TRADING_MODE: "live" },
    );
    expect(trading.mode).toBe("paper");
    expect(trading.config.TRADING_MODE).toBe("paper");
  });

  it("refuses a TRADING_MODE that is no mode at all, with or without --live", async () => {
    for (const flags of [{ live: false, confirmed: false }, LIVE]) {
      expect(await refusal(chooseLocalTrading(flags, { ...liveEnv, TRADING_MODE: "bogus" }))).toMatch(
        /^Invalid configuration: TRADING_MODE="bogus": .*"paper".*"live"/,
      );
    }
    const unset = await chooseLocalTrading({ live: false, confirmed: false }, { TRADING_MODE: "" });
    expect(unset.mode).toBe("paper");
  });

  it("--live with the confirmation, a venue and a key file is live against that venue", async () => {
    const trading = await chooseLocalTrading(LIVE, liveEnv);
    expect(trading).toMatchObject({ mode: "live", baseUrl: FAKE, keyFile: keyPath, warnings: [] });
    expect(trading.config.TRADING_MODE).toBe("live");
    expect(trading.config.COINBASE_KEY_FILE).toBe(keyPath);
  });

  it("--live without the confirmation flag refuses, saying where the orders would go and which flag confirms", async () => {
    const message = await refusal(chooseLocalTrading({ live: true, confirmed: false }, liveEnv));
    expect(message).toBe(
      `--live places REAL orders at ${FAKE} with the Coinbase key in COINBASE_KEY_FILE; add --yes-i-understand-real-orders to confirm.`,
    );
  });

  it("--live without the confirmation flag names the flag even before the venue is set", async () => {
    const message = await refusal(chooseLocalTrading({ live: true, confirmed: false }, {}));
    expect(message).toBe(
      "--live places REAL orders at the venue at COINBASE_API_BASE_URL (not set yet) with the Coinbase key in COINBASE_KEY_FILE; add --yes-i-understand-real-orders to confirm.",
    );
  });

  it("--live needs COINBASE_API_BASE_URL set on purpose: the default is Coinbase itself", async () => {
    const message = await refusal(chooseLocalTrading(LIVE, { COINBASE_KEY_FILE: keyPath }));
    expect(message).toMatch(/COINBASE_API_BASE_URL, which is not set/);
  });

  it("refuses plain http to anything but loopback: the JWTs would travel in clear", async () => {
    const message = await refusal(
      chooseLocalTrading(LIVE, {
        ...liveEnv,
        COINBASE_API_BASE_URL: "http://sandbox.example.com/api/v3/brokerage",
      }),
    );
    expect(message).toMatch(/must be https:\/\//);
    await expect(
      chooseLocalTrading(LIVE, {
        ...liveEnv,
        COINBASE_API_BASE_URL: "http://localhost:4010/api/v3/brokerage",
      }),
    ).resolves.toMatchObject({ mode: "live" });
  });

  it("--live needs COINBASE_KEY_FILE, and says that Secrets Manager is for deployed functions", async () => {
    const message = await refusal(
      chooseLocalTrading(LIVE, {
        COINBASE_API_BASE_URL: FAKE,
        COINBASE_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
      }),
    );
    expect(message).toMatch(
      /COINBASE_KEY_FILE, which is not set \(COINBASE_SECRET_ARN is for deployed functions/,
    );
  });

  it("a missing or malformed key file refuses before anything starts, naming the path and the format", async () => {
    const missing = join(dir, "missing.json");
    expect(await refusal(chooseLocalTrading(LIVE, { ...liveEnv, COINBASE_KEY_FILE: missing }))).toContain(
      `COINBASE_KEY_FILE=${missing}: cannot read the file (no such file)`,
    );
    const malformed = join(dir, "malformed.json");
    writeFileSync(malformed, `{"name":"${key.name}","privateKey":"${escapedNewlines(key.sec1Pem)}"`, {
      mode: 0o600,
    });
    const message = await refusal(chooseLocalTrading(LIVE, { ...liveEnv, COINBASE_KEY_FILE: malformed }));
    expect(message).toContain(`COINBASE_KEY_FILE=${malformed}: Coinbase key file is not valid JSON`);
    expect(message).toContain("Expected Coinbase's CDP API key file");
  });

  it("an invalid setting is one refusal naming the variable", async () => {
    expect(await refusal(chooseLocalTrading(LIVE, { ...liveEnv, COINBASE_KEY_FILE: " " }))).toMatch(
      /^Invalid configuration: COINBASE_KEY_FILE=" "/,
    );
  });

  it("warns when the key file can be read by other users, and when the venue is Coinbase itself", async () => {
    const shared = join(dir, "shared.json");
    writeFileSync(shared, `{"name":"${key.name}","privateKey":"${escapedNewlines(key.sec1Pem)}"}`);
    chmodSync(shared, 0o644);
    const trading = await chooseLocalTrading(LIVE, {
      COINBASE_API_BASE_URL: "https://api.coinbase.com/api/v3/brokerage",
      COINBASE_KEY_FILE: shared,
    });
    if (trading.mode !== "live") throw new Error("expected live");
    expect(trading.warnings).toEqual([
      `COINBASE_KEY_FILE=${shared} can be read by other users of this machine: chmod 600 it.`,
      "https://api.coinbase.com/api/v3/brokerage is Coinbase itself: the signals come from replayed historical candles, the orders spend real money.",
    ]);
  });
});
