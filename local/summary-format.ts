/**
 * `npm start`'s text: one line per cycle, and the run summary. Money prints in cents, prices at the
 * product's price increment, times as the replay's UTC minute (every record of a local run carries
 * the replay clock, see replay-clock.ts).
 */
import { Decimal } from "decimal.js";
import { RecommendationStatus } from "#domain/schemas.js";
import type { CycleReport } from "./pipeline.js";
import type { RunSummary } from "./run-summary.js";

/** Dollars in cents: $1234.50, -$1.67. */
export function usd(amount: number | string): string {
  const cents = new Decimal(amount).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  return `${cents.isNegative() && !cents.isZero() ? "-" : ""}$${cents.abs().toFixed(2)}`;
}

/**
 * A price at the product's price increment (rounded to the nearest step, with the increment's
 * decimals); without an increment, at most 10 significant digits, so float noise never shows.
 */
export function price(value: number | string, increment?: string): string {
  const p = new Decimal(value);
  if (increment === undefined || !(Number(increment) > 0)) return p.toSignificantDigits(10).toFixed();
  const step = new Decimal(increment);
  return p.toNearest(step, Decimal.ROUND_HALF_UP).toFixed(step.decimalPlaces());
}

/** An ISO time as its UTC minute: 2024-04-14T13:01Z. */
export function minute(iso: string): string {
  return `${iso.slice(0, 16)}Z`;
}

/** Counts, zeros left out, in `order` when given (else as inserted): "EXECUTED 10  REFUSED_BY_RISK 13". */
function counts(byKey: Partial<Record<string, number>>, order?: readonly string[]): string {
  const keys = order ?? Object.keys(byKey);
  return keys
    .map((k) => [k, byKey[k]] as const)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join("  ");
}

const total = (byKey: Partial<Record<string, number>>) =>
  Object.values(byKey).reduce<number>((sum, n) => sum + (n ?? 0), 0);

/** The line `npm start` prints after each cycle. */
export function formatCycle(c: CycleReport): string {
  return (
    `  ${minute(c.at)}  candles +${String(c.ingested).padStart(5)}  signals ${String(c.signals).padStart(2)}  ` +
    `new recs ${c.created}  queued ${c.queued}  validated ${c.validated}  risk ${c.risk}  executed ${c.executed}  ` +
    `equity ${usd(c.equityUsd)}${c.exits.length > 0 ? `  exits ${c.exits.join(", ")}` : ""}`
  );
}

export function formatSummary(summary: RunSummary): string {
  const at = (symbol: string, value: number | string) => price(value, summary.priceIncrements[symbol]);
  const lines: string[] = [];
  const s = summary.signalsByType;
  lines.push(`Signals          BUY ${s.BUY}  SELL ${s.SELL}  HOLD ${s.HOLD}`);
  const entries = total(summary.entriesByState);
  const exits = total(summary.exitsByState);
  lines.push(
    `Recommendations  ${entries === 0 && exits === 0 ? "none" : `${entries} entries: ${counts(summary.entriesByState, RecommendationStatus.options) || "none"}`}` +
      (exits > 0 ? `;  ${exits} exits: ${counts(summary.exitsByState, RecommendationStatus.options)}` : ""),
  );

  const llm = summary.llm;
  lines.push(
    `LLM              approved ${llm.approved}  rejected ${llm.rejected}` +
      (llm.waiting > 0 ? `  not validated ${llm.waiting} (QUEUED: no LLM answered)` : ""),
  );
  for (const r of llm.rejections)
    lines.push(`  ${minute(r.at)}  ${r.symbol.padEnd(10)} ${oneLine(r.reasoning, 100)}`);

  const risk = summary.riskRefusals;
  lines.push(`Risk refusals    ${risk.total === 0 ? "none" : `${risk.total}: ${counts(risk.byReason)}`}`);
  for (const [reason, n] of Object.entries(risk.byReason)) {
    const first = risk.refused.find((r) => r.reasons.some((x) => x.reason === reason))!;
    const detail = first.reasons.find((x) => x.reason === reason)!.detail;
    lines.push(
      `  ${reason.padEnd(20)} ${String(n).padStart(3)}  first: ${first.symbol} at ${minute(first.at)}, ${detail}`,
    );
  }

  const fees = summary.orders.reduce((sum, o) => sum.plus(o.totalFees), new Decimal(0));
  lines.push(
    `Orders           ${summary.orders.length}  (fills ${summary.fills.length}${summary.orders.length > 0 ? `, fees ${usd(fees.toString())}` : ""})`,
  );
  for (const o of summary.orders) {
    const filled = Number(o.filledSize) > 0;
    lines.push(
      `  ${minute(o.createdAt)}  ${o.side.padEnd(4)} ${o.symbol.padEnd(10)} ${o.status.padEnd(9)} ` +
        (filled
          ? `${o.filledSize} @ ${at(o.symbol, o.averageFilledPrice)} = ${usd(o.filledValue)}  fees ${usd(o.totalFees)}`
          : `nothing filled${o.failureReason ? `: ${o.failureReason}` : ""}`),
    );
  }

  lines.push(`Holdings         ${summary.positions.length === 0 ? "none" : "marked at the last close"}`);
  for (const p of summary.positions)
    lines.push(
      `  ${p.symbol.padEnd(10)} ${p.quantity} @ ${at(p.symbol, p.markPrice)} = ${usd(p.marketValueUsd)}`,
    );
  if (summary.equity) {
    const e = summary.equity;
    lines.push(
      `Equity           ${usd(e.equityUsd)}  (cash ${usd(e.cashUsd)}, peak ${usd(e.peakEquityUsd)}, drawdown ${e.drawdownPct.toFixed(2)}%)`,
    );
  }

  const byReason: Record<string, number> = {};
  for (const e of summary.exits) byReason[e.reason] = (byReason[e.reason] ?? 0) + 1;
  lines.push(`Exits            ${summary.exits.length === 0 ? "none" : counts(byReason)}`);
  for (const e of summary.exits) {
    const booked =
      e.outcome === "FILLED"
        ? `sold ${e.filledBase} @ ${at(e.symbol, e.averagePrice!)}  P&L ${usd(e.pnlUsd!)}`
        : (e.outcome ?? "working");
    lines.push(`  ${minute(e.at)}  ${e.reason.padEnd(15)} ${e.symbol.padEnd(10)} ${booked}`);
  }

  lines.push(...positionLines(summary, at));
  lines.push(`Kill switch      ${summary.killSwitch.active ? `ON (${summary.killSwitch.reason})` : "off"}`);
  return lines.join("\n");
}

/** Realized and unrealized P&L per managed position (one per entry), and their sums. */
function positionLines(
  summary: RunSummary,
  at: (symbol: string, value: number | string) => string,
): string[] {
  const all = summary.managedPositions;
  if (all.length === 0) return ["P&L per position none"];
  const realized = all.reduce((sum, p) => sum.plus(p.realizedPnlUsd), new Decimal(0));
  const unrealized = all.reduce((sum, p) => sum.plus(p.unrealizedPnlUsd ?? 0), new Decimal(0));
  const closed = all.filter((p) => p.status === "CLOSED").length;
  const lines = [
    `P&L per position realized ${usd(realized.toString())}  unrealized ${usd(unrealized.toString())}  ` +
      `total ${usd(realized.plus(unrealized).toString())}  (${closed} closed, ${all.length - closed} open)`,
  ];
  for (const p of all) {
    const state =
      p.status === "CLOSED"
        ? `CLOSED ${minute(p.closedAt!)} by ${p.exits.join(", ")}`
        : `${p.status} ${p.quantity}${p.markPrice !== undefined ? ` @ ${at(p.symbol, p.markPrice)}` : " (no mark)"}`;
    const pnl =
      `realized ${usd(p.realizedPnlUsd)}` +
      (p.unrealizedPnlUsd !== undefined ? `  unrealized ${usd(p.unrealizedPnlUsd)}` : "");
    lines.push(
      `  ${p.symbol.padEnd(10)} ${minute(p.openedAt)}  entry ${at(p.symbol, p.entryPrice).padEnd(10)} ${state.padEnd(42)} ${pnl}`,
    );
  }
  return lines;
}

/** Free text on one line, cut at `max` characters. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
