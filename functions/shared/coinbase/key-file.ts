/**
 * A Coinbase CDP API key read from a local file (COINBASE_KEY_FILE): the JSON file the CDP portal
 * downloads. Every failure is one CoinbaseKeyError naming the path and the expected format; no
 * error ever carries the file's content.
 */
import { readFileSync, statSync } from "node:fs";
import { type CoinbaseKey, CoinbaseKeyError, parseCoinbaseKeyFile } from "./auth.js";

export const COINBASE_KEY_FILE_FORMAT =
  'Coinbase\'s CDP API key file, JSON {"name": "organizations/{org}/apiKeys/{key}", "privateKey": "-----BEGIN EC PRIVATE KEY-----\\n...\\n-----END EC PRIVATE KEY-----\\n"} (an Ed25519 key has "id" and a base64 "privateKey")';

/** a CDP key file is a few hundred bytes; anything this large is the wrong file */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export function readCoinbaseKeyFile(path: string): CoinbaseKey {
  const fail = (problem: string) =>
    new CoinbaseKeyError(`COINBASE_KEY_FILE=${path}: ${problem}. Expected ${COINBASE_KEY_FILE_FORMAT}.`);
  let json: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw fail("not a regular file");
    if (stat.size > MAX_KEY_FILE_BYTES) throw fail(`${stat.size} bytes is too large for a key file`);
    json = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof CoinbaseKeyError) throw error;
    throw fail(`cannot read the file (${readErrorReason(error)})`);
  }
  try {
    return parseCoinbaseKeyFile(json);
  } catch (error) {
    // parseCoinbaseKeyFile's messages never quote the key material; anything else is reported by kind only
    const reason = error instanceof CoinbaseKeyError ? error.message : "the key could not be loaded";
    throw fail(reason);
  }
}

/**
 * Whether other users can read the key file (POSIX group/other permission bits); a local run warns,
 * as ssh does. Always false on Windows, which has no such bits.
 */
export function keyFileReadableByOthers(path: string): boolean {
  if (process.platform === "win32") return false;
  return (statSync(path).mode & 0o077) !== 0;
}

function readErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    default:
      return code ?? "unknown error";
  }
}
