/**
 * The part of a local pipeline's options that comes from the configuration, the venue and the LLM
 * check, shared by `npm start` and `npm start -- --follow` so both run the same settings (RISK_*,
 * EXIT_*, the paper cash, the LLM's timeout and seed).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Config } from "#config";
import { exitSettingsFrom } from "#exits/exit-config.js";
import { createOllamaVerdictClient } from "#llm/index.js";
import { riskLimitsFromConfig } from "#risk/limits-from-config.js";
import type { Log } from "#runtime/log.js";
import type { Venue } from "#runtime/venue.js";
import type { LocalPipelineOptions } from "./pipeline.js";

export interface PipelineContext {
  config: Config;
  venue: Venue;
  symbols: readonly string[];
  /** the Ollama server that answered the health check, or undefined: validation is not attempted */
  llm: { host: string; model: string } | undefined;
  log: Log;
  verbose: boolean;
}

export function pipelineOptionsFromConfig(c: PipelineContext) {
  const { config, venue, llm } = c;
  const settle = venue.settleRestingOrders;
  return {
    verdicts: llm
      ? createOllamaVerdictClient({
          host: llm.host,
          model: llm.model,
          timeoutMs: config.OLLAMA_TIMEOUT_MS,
          seed: config.OLLAMA_SEED,
        })
      : undefined,
    exchange: venue.exchange,
    settleRestingOrders: settle && (() => settle(c.symbols)),
    marks: venue.marks,
    startingCashUsd: config.PAPER_STARTING_CASH_USD,
    limits: riskLimitsFromConfig(config),
    exits: exitSettingsFrom(config),
    log: c.log,
    handlerLogger: new Logger({ serviceName: "local-runner", logLevel: c.verbose ? "INFO" : "SILENT" }),
  } satisfies Partial<LocalPipelineOptions>;
}
