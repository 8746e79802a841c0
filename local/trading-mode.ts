/**
 * The paper/live switch of `npm start`. Paper is the default. `--live` runs the same chain with the
 * Coinbase Advanced Trade client against COINBASE_API_BASE_URL, signed with the CDP key file at
 * COINBASE_KEY_FILE, and only with the confirmation flag. Everything that can be checked before the
 * local cloud starts is checked here, and a refusal is one line saying what to do. No refusal or
 * warning ever carries key material.
 */
import { CoinbaseKeyError } from "#coinbase/auth.js";
import { COINBASE_KEY_FILE_FORMAT, keyFileReadableByOthers } from "#coinbase/key-file.js";
import { type Config, ConfigError, loadConfig } from "#config";
import { loadLiveKey } from "#runtime/venue.js";

export const LIVE_FLAG = "live";
export const LIVE_CONFIRMATION_FLAG = "yes-i-understand-real-orders";

const PRODUCTION_HOST = "api.coinbase.com";
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

export type LocalTrading =
  | { mode: "paper"; config: Config }
  | {
      mode: "live";
      config: Config;
      /** where orders go: COINBASE_API_BASE_URL */
      baseUrl: string;
      keyFile: string;
      /** things the user should read before real orders go out */
      warnings: string[];
    };

/** `npm start` will not run as asked; the message is the one line to print. */
export class LocalRunRefused extends Error {
  override readonly name = "LocalRunRefused";
}

export interface TradingFlags {
  live: boolean;
  confirmed: boolean;
}

export async function chooseLocalTrading(flags: TradingFlags, env: NodeJS.ProcessEnv): Promise<LocalTrading> {
  // without --live the run is paper whatever valid mode TRADING_MODE names: a live run is never an
  // accident; a value that is no mode at all (TRADING_MODE=bogus) is refused like any wrong setting
  if (env.TRADING_MODE?.trim() !== "live") configFrom(env);
  if (!flags.live) return { mode: "paper", config: configFrom({ ...env, TRADING_MODE: "paper" }) };

  const config = configFrom({ ...env, TRADING_MODE: "live" });
  const baseUrl = env.COINBASE_API_BASE_URL?.trim();
  if (!flags.confirmed) {
    const venue = baseUrl ? config.COINBASE_API_BASE_URL : "the venue at COINBASE_API_BASE_URL (not set yet)";
    throw new LocalRunRefused(
      `--${LIVE_FLAG} places REAL orders at ${venue} with the Coinbase key in COINBASE_KEY_FILE; add --${LIVE_CONFIRMATION_FLAG} to confirm.`,
    );
  }
  if (!baseUrl) {
    throw new LocalRunRefused(
      `--${LIVE_FLAG} sends orders to COINBASE_API_BASE_URL, which is not set: set it to the venue (a sandbox, the project's fake Coinbase, or https://${PRODUCTION_HOST}/api/v3/brokerage for real money).`,
    );
  }
  const url = new URL(config.COINBASE_API_BASE_URL);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new LocalRunRefused(
      `COINBASE_API_BASE_URL=${baseUrl}: --${LIVE_FLAG} sends signed requests, so the venue must be https:// (plain http:// only on 127.0.0.1 or localhost).`,
    );
  }
  const keyFile = config.COINBASE_KEY_FILE;
  if (!keyFile) {
    throw new LocalRunRefused(
      `--${LIVE_FLAG} reads the Coinbase key from COINBASE_KEY_FILE, which is not set${config.COINBASE_SECRET_ARN ? " (COINBASE_SECRET_ARN is for deployed functions; a local run does not call Secrets Manager)" : ""}: set it to the path of ${COINBASE_KEY_FILE_FORMAT}.`,
    );
  }
  try {
    // loaded here only to prove the file usable before anything starts; the venue loads it again
    await loadLiveKey(config);
  } catch (error) {
    if (error instanceof CoinbaseKeyError) throw new LocalRunRefused(error.message);
    throw error;
  }

  const warnings: string[] = [];
  if (keyFileReadableByOthers(keyFile))
    warnings.push(`COINBASE_KEY_FILE=${keyFile} can be read by other users of this machine: chmod 600 it.`);
  if (url.hostname === PRODUCTION_HOST)
    warnings.push(
      `${config.COINBASE_API_BASE_URL} is Coinbase itself: the signals come from replayed historical candles, the orders spend real money.`,
    );
  return { mode: "live", config, baseUrl: config.COINBASE_API_BASE_URL, keyFile, warnings };
}

function configFrom(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new LocalRunRefused(error.message);
    throw error;
  }
}
