import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinbaseKeyError } from "#coinbase/auth.js";
import { loadConfig } from "#config";
import { createVenue, loadLiveKey } from "#runtime/venue.js";
import { createDocumentClient } from "#store/dynamo/client.js";
import { es256TestKey, escapedNewlines } from "#test/coinbase/test-keys.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";

const key = es256TestKey();
const dir = mkdtempSync(join(tmpdir(), "venue-key-"));
const keyPath = join(dir, "cdp_api_key.json");
writeFileSync(keyPath, `{"name":"${key.name}","privateKey":"${escapedNewlines(key.sec1Pem)}"}`, {
  mode: 0o600,
});
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:coinbase-AbCdEf";

const deps = {
  // live mode touches neither DynamoDB nor the candles; a client that cannot connect proves it
  db: createDocumentClient({ endpoint: "http://127.0.0.1:1", region: "us-east-1" }),
  portfolioTable: "unused",
  candles: {
    latestCandles: async () => {
      throw new Error("not expected");
    },
  },
  granularity: "ONE_HOUR" as const,
};

describe("the live venue's key: COINBASE_KEY_FILE for local runs, Secrets Manager when deployed", () => {
  let fake: FakeCoinbase;
  beforeAll(async () => {
    fake = await startFakeCoinbase({ keys: [{ name: key.name, publicKey: key.publicKey }] });
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("TRADING_MODE=live with COINBASE_KEY_FILE signs the venue's requests with that file's key", async () => {
    const config = loadConfig({
      TRADING_MODE: "live",
      COINBASE_API_BASE_URL: fake.baseUrl,
      COINBASE_KEY_FILE: keyPath,
    });
    const venue = await createVenue(config, deps);
    const balances = await venue.exchange.getBalances();
    expect(balances.USD?.available).toBe("10000");
    const accounts = fake.requests.filter((r) => r.path.endsWith("/accounts"));
    expect(accounts.length).toBeGreaterThan(0);
    expect(accounts.every((r) => r.authorized && r.status === 200)).toBe(true);
  });

  it("refuses both COINBASE_KEY_FILE and COINBASE_SECRET_ARN: which account trades would be a guess", async () => {
    const config = loadConfig({
      TRADING_MODE: "live",
      COINBASE_KEY_FILE: keyPath,
      COINBASE_SECRET_ARN: SECRET_ARN,
    });
    const error = await loadLiveKey(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoinbaseKeyError);
    expect((error as Error).message).toMatch(
      /both COINBASE_KEY_FILE and COINBASE_SECRET_ARN are set.*Set only one/,
    );
    await expect(createVenue(config, deps)).rejects.toThrow(/Set only one/);
  });

  it("with neither set, says both ways to provide the key", async () => {
    const error = await loadLiveKey(loadConfig({ TRADING_MODE: "live" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoinbaseKeyError);
    expect((error as Error).message).toContain("COINBASE_SECRET_ARN");
    expect((error as Error).message).toContain("COINBASE_KEY_FILE");
  });

  it("an unreadable COINBASE_KEY_FILE stops the venue with the path, never falling back to another key", async () => {
    const missing = join(dir, "missing.json");
    const config = loadConfig({ TRADING_MODE: "live", COINBASE_KEY_FILE: missing });
    await expect(createVenue(config, deps)).rejects.toThrow(
      `COINBASE_KEY_FILE=${missing}: cannot read the file`,
    );
  });

  it("a blank COINBASE_KEY_FILE is a configuration error naming the variable", () => {
    expect(() => loadConfig({ COINBASE_KEY_FILE: "   " })).toThrow(
      /COINBASE_KEY_FILE=" {3}": only whitespace/,
    );
  });
});
