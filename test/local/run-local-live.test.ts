/**
 * `npm start -- --live` end to end: bin/run-local.ts as a child process, trading through the Coinbase
 * client against the fake Coinbase (JWT-verifying, 127.0.0.1) with the key from COINBASE_KEY_FILE,
 * the fake Ollama approving, the replayed April 2024 candles driving the signals.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Order } from "#domain/schemas.js";
import { readCandleColumns } from "#market-data/replay.js";
import { es256TestKey, escapedNewlines } from "#test/coinbase/test-keys.js";
import { APRIL_CANDLES, APRIL_SYMBOLS, fakeProductAt } from "#test/e2e/support.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { type RunLocalResult, runLocalChild } from "#test/support/run-local-child.js";

/** the fixture's last candle opens at 2024-04-14T17:00Z; 7 cycles run at 11:01 .. 17:01 */
const HOURS = "7";
const CONFIRM = "--yes-i-understand-real-orders";

const key = es256TestKey();
const keyMaterial = key.sec1Pem.split("\n").filter((line) => line && !line.startsWith("-----"));
const dir = mkdtempSync(join(tmpdir(), "run-local-live-"));
const keyPath = join(dir, "cdp_api_key.json");
writeFileSync(keyPath, `{"name":"${key.name}","privateKey":"${escapedNewlines(key.sec1Pem)}"}`, {
  mode: 0o600,
});

/** the fake's books priced at each symbol's last replayed close, as a live venue would be */
function replayPricedProducts() {
  return APRIL_SYMBOLS.map((productId) => {
    const cols = readCandleColumns(join(APRIL_CANDLES, `${productId.replace("-USD", "-USDT")}_1h.csv`));
    const close = cols.close[cols.length - 1];
    return fakeProductAt(productId, close);
  });
}

function expectNoKeyMaterial(result: RunLocalResult): void {
  for (const line of keyMaterial) {
    expect(result.stdout).not.toContain(line);
    expect(result.stderr).not.toContain(line);
  }
}

describe("npm start -- --live against the fake Coinbase", () => {
  let fake: FakeCoinbase;
  let ollama: FakeOllama;
  let env: Record<string, string>;
  beforeAll(async () => {
    fake = await startFakeCoinbase({
      keys: [{ name: key.name, publicKey: key.publicKey }],
      products: replayPricedProducts(),
      balances: { USD: "10000", ...Object.fromEntries(APRIL_SYMBOLS.map((s) => [s.split("-")[0], "0"])) },
    });
    ollama = await startFakeOllama({ defaultBehaviour: "approve" });
  });
  beforeEach(() => {
    env = { COINBASE_API_BASE_URL: fake.baseUrl, COINBASE_KEY_FILE: keyPath, OLLAMA_HOST: ollama.host };
  });
  afterAll(async () => {
    await Promise.all([fake.close(), ollama.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("places the approved orders at the venue with valid JWTs and books the venue's fills", async () => {
    const out = join(dir, "summary.json");
    const result = await runLocalChild(
      ["--live", CONFIRM, "--candles", APRIL_CANDLES, "--hours", HOURS, "--json", out, "--verbose"],
      env,
    );
    expect(result.stderr.split("\n").filter((l) => l.startsWith("npm start:"))).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Trading: LIVE. Orders go to ${fake.baseUrl}, signed with the key in ${keyPath}.`,
    );
    expect(result.stdout).toContain(`(LIVE trading: real orders at ${fake.baseUrl})`);
    expect(result.stdout).toContain(`Trading          LIVE at ${fake.baseUrl}`);
    expect(result.stdout).not.toContain("paper trading");

    const summary = JSON.parse(readFileSync(out, "utf8")) as {
      trading: { mode: string; venueBaseUrl?: string };
      recommendationsByState: Record<string, number>;
      orders: Order[];
      equity?: { cashUsd: number };
      positions: Array<{ symbol: string; quantity: string }>;
    };
    expect(summary.trading).toEqual({ mode: "live", venueBaseUrl: fake.baseUrl });
    // booked in the store: one local order per executed recommendation, each the venue's own order
    expect(summary.recommendationsByState.EXECUTED).toBeGreaterThan(0);
    expect(summary.orders.length).toBe(summary.recommendationsByState.EXECUTED);
    for (const order of summary.orders) {
      expect(order.venue).toBe("coinbase");
      expect(order.status).toBe("FILLED");
      expect(fake.state.ordersCreatedFor(order.clientOrderId)).toBe(1);
    }
    // placed at the fake, every private request with a JWT the fake verified against the test key
    const created = fake.requests.filter((r) => r.method === "POST" && r.path.endsWith("/orders"));
    expect(created.length).toBe(summary.orders.length);
    expect(created.every((r) => r.authorized && r.status === 200)).toBe(true);
    expect(fake.requests.filter((r) => r.status === 401)).toEqual([]);
    // the books are the venue's: cash and quantities as the fake holds them
    const usd = fake.state.balance("USD");
    expect(summary.equity?.cashUsd).toBeCloseTo(Number(usd.available) + Number(usd.hold), 6);
    expect(summary.positions.length).toBeGreaterThan(0);
    for (const p of summary.positions) {
      const base = fake.state.balance(p.symbol.split("-")[0]);
      expect(Number(p.quantity)).toBeCloseTo(Number(base.available) + Number(base.hold), 9);
    }
    expectNoKeyMaterial(result);
  }, 180_000);

  it("--live without the confirmation flag refuses in one line and sends nothing", async () => {
    const before = fake.requests.length;
    const result = await runLocalChild(["--live", "--candles", APRIL_CANDLES], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `npm start: --live places REAL orders at ${fake.baseUrl} with the Coinbase key in COINBASE_KEY_FILE; add ${CONFIRM} to confirm.\n`,
    );
    expect(fake.requests.length).toBe(before);
  }, 60_000);

  it("a malformed key file refuses in one line naming the path and the format, quoting no key material", async () => {
    const malformed = join(dir, "malformed.json");
    // the PEM pasted without JSON around it
    writeFileSync(malformed, key.sec1Pem, { mode: 0o600 });
    const result = await runLocalChild(["--live", CONFIRM, "--verbose"], {
      ...env,
      COINBASE_KEY_FILE: malformed,
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(
      `npm start: COINBASE_KEY_FILE=${malformed}: Coinbase key file is not valid JSON`,
    );
    expect(result.stderr).toContain(`Expected Coinbase's CDP API key file, JSON {"name": `);
    expectNoKeyMaterial(result);
  }, 60_000);

  it("a missing key file refuses in one line naming the path", async () => {
    const missing = join(dir, "missing.json");
    const result = await runLocalChild(["--live", CONFIRM], { ...env, COINBASE_KEY_FILE: missing });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      new RegExp(
        `^npm start: COINBASE_KEY_FILE=${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot read the file \\(no such file\\)\\. Expected .*\\n$`,
      ),
    );
  }, 60_000);
});
