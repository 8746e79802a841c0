/**
 * Operators and managed positions (the position-manager function's commands, `aws lambda invoke`
 * or `npm run invoke -- position-manager --event events/position-manager.<action>.json`):
 *
 * - `{"action":"list"}`: the open managed positions, with entry, quantity, stop in force, targets
 *   left, time limit, the bid and the unrealized P&L at it, exits in flight, the resting stop, and holds;
 * - `{"action":"exit","positionId":"…","by":"alice","reason":"…"}`: sell the whole rest by hand;
 * - `{"action":"exit-all","by":"alice","reason":"…"}`: the same for every open position;
 * - `{"action":"retry-exits","positionId":"…","by":"alice","reason":"…"}`: lift the hold of a
 *   position whose exit was refused EXIT_MAX_ATTEMPTS times, so its exits are issued again (and
 *   of one whose resting stop was refused MAX_RESTING_STOP_FAILURES times, so it is placed again).
 *
 * A MANUAL exit goes the way of every other exit, and so is never twice: the request (who, why,
 * when) is written on the managed position, conditional on the version read; the exit policy then
 * turns it into a MANUAL intent (the whole rest, at the bid), issued with the deterministic id
 * exitIdFor(position, "MANUAL", 0, attempt) through the execution chain. The position is evaluated
 * at once, in the same invocation (manageOnePosition); a scheduled run at the same moment names the
 * same exit, and the version check lets only one of them write it. Nothing blocks it: neither the
 * kill switch nor a risk limit is read on its way. Asking twice is answered "already requested" and
 * changes nothing; asking about a CLOSED or unknown position is answered with an error value.
 */
import { Decimal } from "decimal.js";
import { z } from "zod";
import { exitLabel, type ManagedPosition } from "#domain/managed-position.js";
import { clearOperatorHold } from "#exits/exit-attempts.js";
import { stopInForce } from "#exits/exit-policy.js";
import { exitStateOf, pendingExits } from "#exits/position-ledger.js";
import { MAX_RESTING_STOP_FAILURES, restingExit, restingFailures } from "#exits/resting-stop.js";
import {
  type IssuedExit,
  manageOnePosition,
  type PositionManagerDeps,
  type PositionManagerSettings,
} from "./manage-positions.js";

const Operator = z.string().trim().min(1, "say who you are (an email or a name)");
const Why = z.string().trim().min(1, "say why (it goes into the audit log and the exit's reasoning)");
const PositionId = z.string().trim().min(1, 'the managed position\'s id (see {"action":"list"})');

export const PositionManagerCommand = z.discriminatedUnion("action", [
  z.object({ action: z.literal("list") }),
  z.object({ action: z.literal("exit"), positionId: PositionId, by: Operator, reason: Why }),
  z.object({ action: z.literal("exit-all"), by: Operator, reason: Why }),
  z.object({ action: z.literal("retry-exits"), positionId: PositionId, by: Operator, reason: Why }),
]);
export type PositionManagerCommand = z.infer<typeof PositionManagerCommand>;

/** One open position as an operator reads it. */
export interface PositionLine {
  positionId: string;
  symbol: string;
  status: ManagedPosition["status"];
  openedAt: string;
  entryPrice: number;
  entryQuantity: string;
  quantity: string;
  stopInForce: number;
  trailingStop?: number;
  /** the ladder legs not yet taken */
  targetsLeft: { leg: number; price: number; share: number }[];
  expiresAt?: string;
  /** the venue's best bid now, when it could be read */
  bid?: number;
  /** quantity × bid − the entry cost's share of it (fees in), at the bid */
  unrealizedPnlUsd?: number;
  realizedPnlUsd: number;
  /** exits issued and not yet settled */
  pendingExits: string[];
  /** the stop resting on the venue: its exit id and prices */
  restingStop?: { exitId: string; stopPrice: string; limitPrice: string };
  manualExit?: ManagedPosition["manualExit"];
  needsOperator?: ManagedPosition["needsOperator"];
  /** why there is no bid */
  markError?: string;
}

/** The answer to exit / retry-exits for one position. */
export type PositionCommandResult =
  | {
      outcome: "requested" | "already-requested" | "hold-cleared";
      positionId: string;
      symbol: string;
      /** exits issued by this invocation's evaluation */
      issued: IssuedExit[];
      /** exits in flight on the position after it (a MANUAL one, or one that already sells the rest) */
      pendingExits: string[];
      /** the evaluation could not run now (no bid, a store error): the every-minute run acts on the request */
      evaluationError?: string;
    }
  | { outcome: "refused"; positionId: string; error: string };

export type PositionCommandAnswer =
  | { positions: PositionLine[] }
  | PositionCommandResult
  | { results: PositionCommandResult[] };

const MAX_WRITE_ATTEMPTS = 5;

export async function runPositionCommand(
  deps: PositionManagerDeps,
  settings: PositionManagerSettings,
  command: PositionManagerCommand,
  now: Date,
): Promise<PositionCommandAnswer> {
  switch (command.action) {
    case "list":
      return { positions: await listPositions(deps, await deps.managedPositions.openPositions()) };
    case "exit":
      return requestManualExit(deps, settings, command.positionId, command, now);
    case "exit-all": {
      const results: PositionCommandResult[] = [];
      for (const position of await deps.managedPositions.openPositions())
        results.push(await requestManualExit(deps, settings, position.positionId, command, now));
      return { results };
    }
    case "retry-exits":
      return retryExits(deps, settings, command.positionId, command, now);
  }
}

/**
 * Records an operator's MANUAL exit on the position (conditional on its version, audited) and
 * evaluates the position at once. A hold for an operator is lifted by the same write.
 */
export async function requestManualExit(
  deps: PositionManagerDeps,
  settings: PositionManagerSettings,
  positionId: string,
  request: { by: string; reason: string },
  now: Date,
): Promise<PositionCommandResult> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const position = await deps.managedPositions.get(positionId);
    const refusal = refusalFor(positionId, position);
    if (refusal || !position) return refusal ?? unknownPosition(positionId);
    if (position.manualExit && !position.needsOperator) {
      deps.log.info("manual exit asked again; the first request stands", {
        correlationId: positionId,
        by: request.by,
        reason: request.reason,
        firstRequest: position.manualExit,
      });
      return evaluated(deps, settings, position, "already-requested", now);
    }
    const held = position.needsOperator ? clearOperatorHold(position, now) : position;
    const next: ManagedPosition = {
      ...held,
      manualExit: position.manualExit ?? {
        by: request.by,
        reason: request.reason,
        requestedAt: now.toISOString(),
      },
    };
    if (!(await deps.managedPositions.update(next, position.version))) continue;
    deps.log.warn("MANUAL exit requested by an operator: the whole rest is sold at the bid", {
      correlationId: positionId,
      symbol: position.symbol,
      by: request.by,
      reason: request.reason,
      quantity: position.quantity,
      ...(position.needsOperator ? { holdLifted: position.needsOperator } : {}),
    });
    return evaluated(deps, settings, { ...next, version: position.version + 1 }, "requested", now);
  }
  return {
    outcome: "refused",
    positionId,
    error: `managed position ${positionId} changed ${MAX_WRITE_ATTEMPTS} times while the request was written; nothing was recorded: send the command again`,
  };
}

/** Lifts a position's hold for an operator: its refused exits are issued again (new attempts). */
export async function retryExits(
  deps: PositionManagerDeps,
  settings: PositionManagerSettings,
  positionId: string,
  request: { by: string; reason: string },
  now: Date,
): Promise<PositionCommandResult> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const position = await deps.managedPositions.get(positionId);
    const refusal = refusalFor(positionId, position);
    if (refusal || !position) return refusal ?? unknownPosition(positionId);
    const stopCapped = restingFailures(position) >= MAX_RESTING_STOP_FAILURES;
    if (!position.needsOperator && !stopCapped)
      return {
        outcome: "refused",
        positionId,
        error: `managed position ${positionId} is not waiting for an operator (no exit was refused EXIT_MAX_ATTEMPTS times, no resting stop refused ${MAX_RESTING_STOP_FAILURES} times): nothing to clear`,
      };
    const next = clearOperatorHold(position, now);
    if (!(await deps.managedPositions.update(next, position.version))) continue;
    deps.log.warn("hold lifted by an operator: the position's exits are issued again", {
      correlationId: positionId,
      symbol: position.symbol,
      by: request.by,
      reason: request.reason,
      hold: position.needsOperator,
    });
    return evaluated(deps, settings, { ...next, version: position.version + 1 }, "hold-cleared", now);
  }
  return {
    outcome: "refused",
    positionId,
    error: `managed position ${positionId} changed ${MAX_WRITE_ATTEMPTS} times while the hold was lifted; nothing was recorded: send the command again`,
  };
}

function refusalFor(
  positionId: string,
  position: ManagedPosition | undefined,
): PositionCommandResult | undefined {
  if (!position) return unknownPosition(positionId);
  if (position.status !== "CLOSED") return undefined;
  const how = position.exits
    .filter((e) => e.outcome === "FILLED")
    .map((e) => exitLabel(e.reason, e.leg))
    .join(", ");
  return {
    outcome: "refused",
    positionId,
    error:
      `managed position ${positionId} (${position.symbol}) is CLOSED since ${position.closedAt ?? "?"}` +
      `${how ? ` (sold by ${how})` : ""}: nothing is left to sell. ` +
      `A holding still on the venue is not this position's: sell it on the venue, or list the open positions with {"action":"list"}.`,
  };
}

function unknownPosition(positionId: string): PositionCommandResult {
  return {
    outcome: "refused",
    positionId,
    error: `no managed position ${JSON.stringify(positionId)}: its id is the entry recommendation's id; list the open ones with {"action":"list"}`,
  };
}

/** The position evaluated at once; an evaluation that cannot run now is left to the next minute. */
async function evaluated(
  deps: PositionManagerDeps,
  settings: PositionManagerSettings,
  position: ManagedPosition,
  outcome: "requested" | "already-requested" | "hold-cleared",
  now: Date,
): Promise<PositionCommandResult> {
  let issued: IssuedExit[] = [];
  let evaluationError: string | undefined;
  try {
    issued = (await manageOnePosition(deps, settings, position, now)).issued;
  } catch (error) {
    evaluationError = `${error instanceof Error ? error.message : String(error)}; the request is recorded and the every-minute run acts on it`;
    deps.log.error("position not evaluated at once after an operator's command", {
      correlationId: position.positionId,
      error: evaluationError,
    });
  }
  const after = (await deps.managedPositions.get(position.positionId)) ?? position;
  return {
    outcome,
    positionId: position.positionId,
    symbol: position.symbol,
    issued,
    pendingExits: pendingExits(after).map((e) => e.exitId),
    ...(evaluationError ? { evaluationError } : {}),
  };
}

/** The open positions with their levels, marked at the venue's bid (one quote per symbol). */
async function listPositions(
  deps: Pick<PositionManagerDeps, "exchange">,
  positions: readonly ManagedPosition[],
): Promise<PositionLine[]> {
  const bids = new Map<string, Promise<number | string>>();
  const bidOf = (symbol: string) => {
    if (!bids.has(symbol))
      bids.set(
        symbol,
        deps.exchange.getBestBidAsk(symbol).then(
          (q) => (Number(q.bid) > 0 ? Number(q.bid) : `the venue's bid is "${q.bid}"`),
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        ),
      );
    return bids.get(symbol)!;
  };
  const lines: PositionLine[] = [];
  for (const p of positions) {
    const bid = await bidOf(p.symbol);
    const state = exitStateOf(p);
    const costOfRest = new Decimal(p.entryCostUsd).mul(p.quantity).div(p.entryQuantity);
    lines.push({
      positionId: p.positionId,
      symbol: p.symbol,
      status: p.status,
      openedAt: p.openedAt,
      entryPrice: p.entryPrice,
      entryQuantity: p.entryQuantity,
      quantity: p.quantity,
      stopInForce: stopInForce(state),
      ...(p.trailingStop !== undefined ? { trailingStop: p.trailingStop } : {}),
      targetsLeft: p.takeProfits
        .map((t, i) => ({ leg: i + 1, price: t.price, share: t.share }))
        .slice(p.targetsHit),
      ...(p.expiresAt ? { expiresAt: p.expiresAt } : {}),
      ...(typeof bid === "number"
        ? {
            bid,
            unrealizedPnlUsd: new Decimal(p.quantity)
              .mul(bid)
              .minus(costOfRest)
              .toDecimalPlaces(2)
              .toNumber(),
          }
        : { markError: bid }),
      realizedPnlUsd: p.realizedPnlUsd,
      pendingExits: pendingExits(p).map((e) => e.exitId),
      ...restingLine(p),
      ...(p.manualExit ? { manualExit: p.manualExit } : {}),
      ...(p.needsOperator ? { needsOperator: p.needsOperator } : {}),
    });
  }
  return lines;
}

function restingLine(position: ManagedPosition): Pick<PositionLine, "restingStop"> {
  const live = restingExit(position);
  return live?.resting ? { restingStop: { exitId: live.exitId, ...live.resting } } : {};
}
