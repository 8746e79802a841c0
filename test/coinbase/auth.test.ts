import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { CoinbaseKeyError, loadCoinbaseKey, parseCoinbaseKeyFile, signRequestJwt } from "#coinbase/auth.js";
import { es256TestKey, escapedNewlines } from "./test-keys.js";

// protocols.md D.2: self-generated Ed25519 key, deterministic signature
const D2 = JSON.parse(
  readFileSync(new URL("../fixtures/coinbase/d2-ed25519-vector.json", import.meta.url), "utf8"),
) as { name: string; secret: string; seedHex: string; token: string };
const fixedClock = { nowSeconds: () => 1700000000, nonce: () => "0123456789abcdef0123456789abcdef" };

describe("signRequestJwt", () => {
  it("reproduces the D.2 Ed25519 vector byte for byte, and the query never reaches the uri", async () => {
    const key = loadCoinbaseKey({ name: D2.name, privateKey: D2.secret });
    expect(key.algorithm).toBe("EdDSA");
    const token = await signRequestJwt(
      key,
      "get",
      "https://api.coinbase.com/api/v3/brokerage/accounts?limit=250&cursor=abc",
      fixedClock,
    );
    expect(token).toBe(D2.token);
  });

  it("gives the same token from the 32-byte seed and from a PKCS8 PEM of the same Ed25519 key", async () => {
    const seedOnly = loadCoinbaseKey({
      name: D2.name,
      privateKey: Buffer.from(D2.seedHex, "hex").toString("base64"),
    });
    const pkcs8 = seedOnly.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const fromPem = loadCoinbaseKey({ name: D2.name, privateKey: escapedNewlines(pkcs8) });
    const url = "https://api.coinbase.com/api/v3/brokerage/accounts";
    expect(await signRequestJwt(seedOnly, "GET", url, fixedClock)).toBe(D2.token);
    expect(fromPem.algorithm).toBe("EdDSA");
    expect(await signRequestJwt(fromPem, "GET", url, fixedClock)).toBe(D2.token);
  });

  it("keeps a non-default port in the uri host", async () => {
    const key = loadCoinbaseKey({ name: D2.name, privateKey: D2.secret });
    const token = await signRequestJwt(
      key,
      "POST",
      "http://127.0.0.1:8123/api/v3/brokerage/orders",
      fixedClock,
    );
    const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(payload.uri).toBe("POST 127.0.0.1:8123/api/v3/brokerage/orders");
  });

  it("D.3: ES256 tokens from a SEC1 key hold the documented properties for any method, path and time", async () => {
    const test = es256TestKey();
    const key = loadCoinbaseKey({ name: test.name, privateKey: escapedNewlines(test.sec1Pem) });
    expect(key.algorithm).toBe("ES256");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST"),
        fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 4 }),
        fc.string({ maxLength: 20 }),
        fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }),
        async (method, segments, query, now) => {
          const path = `/api/v3/brokerage/${segments.join("/")}`;
          const url = `https://api.coinbase.com${path}?q=${encodeURIComponent(query)}`;
          const token = await signRequestJwt(key, method, url, { nowSeconds: () => now });
          const parts = token.split(".");
          expect(parts).toHaveLength(3);
          const header = decodeProtectedHeader(token);
          expect(header).toMatchObject({ alg: "ES256", kid: test.name, typ: "JWT" });
          expect(header.nonce).toMatch(/^[0-9a-f]{32}$/);
          expect(Buffer.from(parts[2]!, "base64url")).toHaveLength(64);
          const { payload } = await jwtVerify(token, test.publicKey, { currentDate: new Date(now * 1000) });
          expect(payload).toEqual({
            sub: test.name,
            iss: "cdp",
            nbf: now,
            exp: now + 120,
            uri: `${method} api.coinbase.com${path}`,
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("loadCoinbaseKey", () => {
  it("accepts a PKCS8 EC key as ES256 and reads the CDP key file with name or id", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(loadCoinbaseKey({ name: "k", privateKey: pem }).algorithm).toBe("ES256");
    expect(parseCoinbaseKeyFile(JSON.stringify({ id: "key-id-1", privateKey: D2.secret })).name).toBe(
      "key-id-1",
    );
    expect(parseCoinbaseKeyFile(JSON.stringify({ name: D2.name, privateKey: D2.secret })).algorithm).toBe(
      "EdDSA",
    );
  });

  it("derives the same public key from the 64-byte secret as the D.2 vector states", () => {
    const key = loadCoinbaseKey({ name: D2.name, privateKey: D2.secret });
    const x = createPublicKey(key.privateKey).export({ format: "jwk" }).x!;
    expect(Buffer.from(x, "base64url").toString("hex")).toBe(
      "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664",
    );
  });

  it("refuses unusable keys with a clear error that never contains the key material", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" })
      .privateKey.export({ type: "sec1", format: "pem" })
      .toString();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const tampered = Buffer.from(D2.secret, "base64");
    tampered[40] = (tampered[40] ?? 0) ^ 0xff;
    const cases: Array<[string, RegExp]> = [
      [p384, /P-256/],
      [rsa, /rsa is not supported/],
      ["-----BEGIN EC PRIVATE KEY-----\nnotbase64!!\n-----END EC PRIVATE KEY-----", /could not be parsed/],
      [
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
        /unsupported PEM type/,
      ],
      [Buffer.alloc(48, 7).toString("base64"), /64 or 32 bytes.*got 48/],
      [tampered.toString("base64"), /inconsistent/],
      ["not a key at all ###", /neither a PEM nor base64/],
      ["", /empty/],
    ];
    for (const [secret, expected] of cases) {
      let thrown: unknown;
      try {
        loadCoinbaseKey({ name: "organizations/o/apiKeys/k", privateKey: secret });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(CoinbaseKeyError);
      const message = (thrown as Error).message;
      expect(message).toMatch(expected);
      expect(message).toContain("organizations/o/apiKeys/k");
      for (const chunk of secret.split(/\s+|-----/).filter((c) => c.length >= 8))
        expect(message).not.toContain(chunk);
    }
    expect(() => loadCoinbaseKey({ name: " ", privateKey: D2.secret })).toThrow(/name is empty/);
  });
});
