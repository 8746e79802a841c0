/**
 * Coinbase CDP API keys and the per-request JWT that Advanced Trade expects (protocols A.2).
 * Key material never appears in an error message, a log line or a thrown value.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from "node:crypto";
import { SignJWT } from "jose";

export type CoinbaseJwtAlgorithm = "ES256" | "EdDSA";

export interface CoinbaseKey {
  /** `organizations/{org}/apiKeys/{key}` (or a bare key id for newer Ed25519 keys); used as kid and sub */
  readonly name: string;
  readonly algorithm: CoinbaseJwtAlgorithm;
  readonly privateKey: KeyObject;
}

export class CoinbaseKeyError extends Error {
  override readonly name = "CoinbaseKeyError";
}

const ED25519_PKCS8_SEED_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const JWT_LIFETIME_SECONDS = 120;

/**
 * Accepts what the CDP portal hands out: a SEC1 `EC PRIVATE KEY` PEM (ES256), a PKCS8 PEM
 * (EC -> ES256, Ed25519 -> EdDSA), or base64 of a 64-byte (seed + public key) or 32-byte
 * Ed25519 secret. Literal `\n` sequences, as stored in env vars and JSON, are normalised.
 */
export function loadCoinbaseKey(input: { name: string; privateKey: string }): CoinbaseKey {
  const name = input.name?.trim();
  if (!name) {
    throw new CoinbaseKeyError(
      "Coinbase API key name is empty: pass the key's `name` (organizations/{org}/apiKeys/{id}) from the CDP key file",
    );
  }
  const secret = (input.privateKey ?? "").replace(/\\n/g, "\n").trim();
  if (!secret) {
    throw new CoinbaseKeyError(`Coinbase API key ${name}: the private key is empty`);
  }
  if (secret.startsWith("-----BEGIN EC PRIVATE KEY-----")) {
    const privateKey = importPem(name, secret, "SEC1 EC");
    requireCurve(name, privateKey);
    return { name, algorithm: "ES256", privateKey };
  }
  if (secret.startsWith("-----BEGIN PRIVATE KEY-----")) {
    const privateKey = importPem(name, secret, "PKCS8");
    if (privateKey.asymmetricKeyType === "ec") {
      requireCurve(name, privateKey);
      return { name, algorithm: "ES256", privateKey };
    }
    if (privateKey.asymmetricKeyType === "ed25519") return { name, algorithm: "EdDSA", privateKey };
    throw new CoinbaseKeyError(
      `Coinbase API key ${name}: PKCS8 key of type ${privateKey.asymmetricKeyType} is not supported; use an ECDSA P-256 or Ed25519 CDP key`,
    );
  }
  if (secret.startsWith("-----BEGIN")) {
    throw new CoinbaseKeyError(
      `Coinbase API key ${name}: unsupported PEM type; expected "EC PRIVATE KEY" (SEC1) or "PRIVATE KEY" (PKCS8)`,
    );
  }
  if (!/^[A-Za-z0-9+/=_-]+$/.test(secret)) {
    throw new CoinbaseKeyError(
      `Coinbase API key ${name}: the private key is neither a PEM nor base64; paste the privateKey field of the CDP key file`,
    );
  }
  const raw = Buffer.from(secret, "base64");
  if (raw.length === 64) {
    const privateKey = createPrivateKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        d: raw.subarray(0, 32).toString("base64url"),
        x: raw.subarray(32).toString("base64url"),
      },
      format: "jwk",
    });
    const derivedPublic = createPublicKey(privateKey).export({ format: "jwk" }).x;
    if (derivedPublic !== raw.subarray(32).toString("base64url")) {
      throw new CoinbaseKeyError(
        `Coinbase API key ${name}: the 64-byte Ed25519 secret is inconsistent (its public half does not match its seed); download the key again`,
      );
    }
    return { name, algorithm: "EdDSA", privateKey };
  }
  if (raw.length === 32) {
    const privateKey = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_SEED_PREFIX, raw]),
      format: "der",
      type: "pkcs8",
    });
    return { name, algorithm: "EdDSA", privateKey };
  }
  throw new CoinbaseKeyError(
    `Coinbase API key ${name}: a base64 secret must decode to 64 or 32 bytes (Ed25519), got ${raw.length} bytes`,
  );
}

/** The CDP key file is `{"name","privateKey"}`; newer files carry `id` instead of `name`. */
export function parseCoinbaseKeyFile(json: string): CoinbaseKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new CoinbaseKeyError('Coinbase key file is not valid JSON; expected {"name":...,"privateKey":...}');
  }
  const file = parsed as { name?: unknown; id?: unknown; privateKey?: unknown };
  const name = typeof file.name === "string" ? file.name : typeof file.id === "string" ? file.id : "";
  const privateKey = typeof file.privateKey === "string" ? file.privateKey : "";
  return loadCoinbaseKey({ name, privateKey });
}

function importPem(name: string, pem: string, kind: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new CoinbaseKeyError(
      `Coinbase API key ${name}: the ${kind} PEM could not be parsed; check that the whole key (header to footer) was copied`,
    );
  }
}

function requireCurve(name: string, key: KeyObject): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== "prime256v1") {
    throw new CoinbaseKeyError(
      `Coinbase API key ${name}: EC key on curve ${curve}; Coinbase needs P-256 (ES256)`,
    );
  }
}

export interface JwtSigningOptions {
  /** Unix seconds; injectable so tests reproduce tokens */
  nowSeconds?: () => number;
  nonce?: () => string;
}

/** `uri` claim: upper-case method, space, host (with a non-default port), path; never the query. */
export function jwtUriFor(method: string, url: string | URL): string {
  const parsed = typeof url === "string" ? new URL(url) : url;
  return `${method.toUpperCase()} ${parsed.host}${parsed.pathname}`;
}

export async function signRequestJwt(
  key: CoinbaseKey,
  method: string,
  url: string | URL,
  options: JwtSigningOptions = {},
): Promise<string> {
  const nbf = options.nowSeconds ? options.nowSeconds() : Math.floor(Date.now() / 1000);
  const nonce = options.nonce ? options.nonce() : randomBytes(16).toString("hex");
  return new SignJWT({
    sub: key.name,
    iss: "cdp",
    nbf,
    exp: nbf + JWT_LIFETIME_SECONDS,
    uri: jwtUriFor(method, url),
  })
    .setProtectedHeader({ alg: key.algorithm, kid: key.name, typ: "JWT", nonce })
    .sign(key.privateKey);
}
