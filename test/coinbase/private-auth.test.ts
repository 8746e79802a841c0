import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCoinbaseKey, signRequestJwt } from "#coinbase/auth.js";
import { CoinbaseApiError } from "#coinbase/errors.js";
import { CoinbaseTradingClient } from "#coinbase/trading.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { es256TestKey, escapedNewlines } from "./test-keys.js";

const testKey = es256TestKey();
const key = loadCoinbaseKey({ name: testKey.name, privateKey: escapedNewlines(testKey.sec1Pem) });
let fake: FakeCoinbase;
let accountsUrl: string;
const nowSec = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  fake = await startFakeCoinbase({ keys: [{ name: testKey.name, publicKey: testKey.publicKey }] });
  accountsUrl = `${fake.baseUrl}/accounts`;
});
afterAll(async () => {
  await fake.close();
});

async function statusWith(
  token: string | undefined,
  url = accountsUrl,
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: await response.text() };
}

function craft(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const nbf = nowSec();
  const uri = `GET ${new URL(accountsUrl).host}${new URL(accountsUrl).pathname}`;
  return new SignJWT({ sub: testKey.name, iss: "cdp", nbf, exp: nbf + 120, uri, ...claims })
    .setProtectedHeader({ alg: "ES256", kid: testKey.name, typ: "JWT", nonce: "abc", ...header })
    .sign(key.privateKey);
}

describe("private endpoints on the fake verify the JWT", () => {
  it("accepts an ES256 token from a SEC1 PEM signed by the client", async () => {
    const client = new CoinbaseTradingClient({ baseUrl: fake.baseUrl, key });
    const accounts = await client.listAccounts();
    expect(accounts.find((a) => a.currency === "USD")?.available_balance.value).toBe("10000");
    expect(fake.requests.at(-1)).toMatchObject({
      path: "/api/v3/brokerage/accounts",
      status: 200,
      authorized: true,
    });
    expect((await statusWith(await signRequestJwt(key, "GET", accountsUrl))).status).toBe(200);
  });

  it("answers 401 text 'Unauthorized' to every bad token", async () => {
    const otherKey = loadCoinbaseKey({ name: testKey.name, privateKey: es256TestKey().sec1Pem });
    const ed = generateKeyPairSync("ed25519").privateKey;
    const cases: Record<string, string | undefined> = {
      "no token": undefined,
      "wrong signature": await signRequestJwt(otherKey, "GET", accountsUrl),
      expired: await signRequestJwt(key, "GET", accountsUrl, { nowSeconds: () => nowSec() - 300 }),
      "not yet valid": await signRequestJwt(key, "GET", accountsUrl, { nowSeconds: () => nowSec() + 300 }),
      "wrong uri path": await signRequestJwt(key, "GET", `${fake.baseUrl}/orders/historical/batch`),
      "wrong uri method": await signRequestJwt(key, "POST", accountsUrl),
      "uri with query": await craft({
        uri: `GET ${new URL(accountsUrl).host}/api/v3/brokerage/accounts?limit=5`,
      }),
      "uri host of production": await signRequestJwt(
        key,
        "GET",
        "https://api.coinbase.com/api/v3/brokerage/accounts",
      ),
      "sub != kid": await craft({ sub: "organizations/x/apiKeys/someone-else" }),
      "iss != cdp": await craft({ iss: "coinbase-cloud" }),
      "lifetime over 120 s": await craft({ exp: nowSec() + 600 }),
      "missing uri": await craft({ uri: undefined }),
      "unknown kid": await craft(
        { sub: "organizations/x/apiKeys/unknown" },
        { kid: "organizations/x/apiKeys/unknown" },
      ),
      "EdDSA key not registered": await new SignJWT({
        sub: testKey.name,
        iss: "cdp",
        nbf: nowSec(),
        exp: nowSec() + 120,
      })
        .setProtectedHeader({ alg: "EdDSA", kid: testKey.name })
        .sign(ed),
      garbage: "not.a.jwt",
    };
    for (const [name, token] of Object.entries(cases)) {
      const { status, body } = await statusWith(token);
      expect({ name, status, body }).toEqual({ name, status: 401, body: "Unauthorized" });
    }
    const withQuery = await statusWith(
      await signRequestJwt(key, "GET", accountsUrl),
      `${accountsUrl}?limit=5`,
    );
    expect(withQuery.status).toBe(200);
  });

  it("the client surfaces a 401 at once (no retry) with what to check", async () => {
    const wrong = loadCoinbaseKey({ name: testKey.name, privateKey: es256TestKey().sec1Pem });
    const before = fake.requests.length;
    const error = await new CoinbaseTradingClient({
      baseUrl: fake.baseUrl,
      key: wrong,
      sleep: async () => {},
    })
      .listAccounts()
      .catch((e) => e);
    expect(error).toBeInstanceOf(CoinbaseApiError);
    expect(error).toMatchObject({ status: 401, attempts: 1, path: "/api/v3/brokerage/accounts" });
    expect((error as Error).message).toMatch(/clock/);
    expect(fake.requests.length - before).toBe(1);
  });

  it("a private call without a key fails before sending anything", async () => {
    const before = fake.requests.length;
    await expect(new CoinbaseTradingClient({ baseUrl: fake.baseUrl }).listAccounts()).rejects.toThrow(
      /needs an API key/,
    );
    expect(fake.requests.length).toBe(before);
  });
});
