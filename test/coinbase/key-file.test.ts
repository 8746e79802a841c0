import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CoinbaseKeyError } from "#coinbase/auth.js";
import { keyFileReadableByOthers, readCoinbaseKeyFile } from "#coinbase/key-file.js";
import { es256TestKey, escapedNewlines, TEST_KEY_NAME } from "./test-keys.js";

const dir = mkdtempSync(join(tmpdir(), "key-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** the base64 body of a PEM: what must never show up in a message */
function pemBody(pem: string): string[] {
  return pem.split("\n").filter((line) => line && !line.startsWith("-----"));
}

function errorOf(fn: () => unknown): CoinbaseKeyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CoinbaseKeyError);
    return error as CoinbaseKeyError;
  }
  throw new Error("expected a CoinbaseKeyError");
}

describe("readCoinbaseKeyFile: the CDP key file at COINBASE_KEY_FILE", () => {
  it("loads an ES256 key file as the CDP portal downloads it (newlines escaped in the JSON)", () => {
    const key = es256TestKey();
    const path = keyFile(
      "cdp_api_key.json",
      `{"name": "${key.name}", "privateKey": "${escapedNewlines(key.sec1Pem)}"}`,
    );
    const loaded = readCoinbaseKeyFile(path);
    expect(loaded.name).toBe(TEST_KEY_NAME);
    expect(loaded.algorithm).toBe("ES256");
  });

  it("loads a newer Ed25519 key file ({id, privateKey} with a base64 secret)", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const jwk = privateKey.export({ format: "jwk" });
    const secret = Buffer.concat([Buffer.from(jwk.d!, "base64url"), Buffer.from(jwk.x!, "base64url")]);
    const path = keyFile(
      "ed25519.json",
      JSON.stringify({ id: "key-id-1", privateKey: secret.toString("base64") }),
    );
    expect(readCoinbaseKeyFile(path).algorithm).toBe("EdDSA");
  });

  it("a missing file is one error naming the path and the expected format", () => {
    const path = join(dir, "nope.json");
    const error = errorOf(() => readCoinbaseKeyFile(path));
    expect(error.message).toContain(`COINBASE_KEY_FILE=${path}`);
    expect(error.message).toContain("no such file");
    expect(error.message).toContain('"privateKey"');
  });

  it("a directory is refused as not a regular file", () => {
    expect(errorOf(() => readCoinbaseKeyFile(dir)).message).toContain("not a regular file");
  });

  it("a file far larger than any key file is refused without being read", () => {
    const path = keyFile("big.json", "x".repeat(70_000));
    expect(errorOf(() => readCoinbaseKeyFile(path)).message).toMatch(/70000 bytes is too large/);
  });

  it("a file that is not JSON is refused without quoting its content", () => {
    const key = es256TestKey();
    // a raw PEM saved where the JSON key file should be: a common mistake
    const path = keyFile("raw.pem", key.sec1Pem);
    const error = errorOf(() => readCoinbaseKeyFile(path));
    expect(error.message).toContain(`COINBASE_KEY_FILE=${path}`);
    expect(error.message).toContain("not valid JSON");
    for (const line of pemBody(key.sec1Pem)) expect(error.message).not.toContain(line);
  });

  it("a damaged private key is refused without quoting it", () => {
    const key = es256TestKey();
    const damaged = key.sec1Pem.replace(/\n([A-Za-z0-9+/]{20})/, "\n!!!!$1");
    const path = keyFile("damaged.json", JSON.stringify({ name: key.name, privateKey: damaged }));
    const error = errorOf(() => readCoinbaseKeyFile(path));
    expect(error.message).toContain(`COINBASE_KEY_FILE=${path}`);
    expect(error.message).toContain("could not be parsed");
    for (const line of pemBody(damaged)) expect(error.message).not.toContain(line);
  });

  it("a key file without a name is refused, saying which field is missing", () => {
    const key = es256TestKey();
    const path = keyFile("noname.json", JSON.stringify({ privateKey: key.sec1Pem }));
    expect(errorOf(() => readCoinbaseKeyFile(path)).message).toContain("name is empty");
  });

  it.skipIf(process.platform === "win32")("tells whether other users can read the file", () => {
    const path = keyFile("perm.json", "{}");
    expect(keyFileReadableByOthers(path)).toBe(false);
    chmodSync(path, 0o644);
    expect(keyFileReadableByOthers(path)).toBe(true);
  });
});
