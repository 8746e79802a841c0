/**
 * Honest windows for `backtest` and `evaluate`: what of the market the model has already seen (its
 * card's split), the default window that starts after it, and a loud IN-SAMPLE warning for a window
 * that overlaps it. A reversed or empty window is an error, never a table of zeros.
 *
 * The model has seen the market from the first row it was fitted on (split.finalFit.from; the final
 * model is refit on training + selection) until the final fit's last row plus the candles its labels
 * looked ahead: the card's split purges split.purgeCandles (at least label.horizonCandles) after
 * each period, so the first unseen instant is finalFit.to + purge. A backtest decides at candle
 * closes and evaluate scores rows by their open time; both count as in-sample when they fall in
 * [finalFit.from, first unseen).
 */
import type { ModelCard } from "#model/card.js";

export class WindowError extends Error {
  override readonly name = "WindowError";
}

/** A span of Unix seconds, [fromSec, toSec). */
export interface Span {
  fromSec: number;
  toSec: number;
}

export interface SeenPeriod extends Span {
  name: string;
}

/** What the model has seen, from its card. */
export interface SeenMarket {
  /** the card's periods, in order: training, selection, and the purged label horizon after the final fit */
  periods: SeenPeriod[];
  /** [finalFit.from, first unseen) */
  seen: Span;
  /** candles purged after the final fit */
  purgeCandles: number;
}

export type CardSplit = Pick<ModelCard, "split" | "label">;

const sec = (iso: string) => Date.parse(iso) / 1000;

/** Unix seconds as ISO-8601 UTC. */
export function iso(s: number): string {
  return new Date(s * 1000).toISOString();
}

export function seenMarketOf(card: CardSplit): SeenMarket {
  const { train, selection, finalFit } = card.split;
  const purgeCandles = Math.max(card.split.purgeCandles, card.label.horizonCandles);
  const firstUnseen = sec(finalFit.to) + purgeCandles * card.label.granularitySeconds;
  return {
    periods: [
      { name: "training", fromSec: sec(train.from), toSec: sec(train.to) },
      { name: "selection", fromSec: sec(selection.from), toSec: sec(selection.to) },
      {
        name: `label horizon after the final fit (${purgeCandles} candles purged)`,
        fromSec: sec(finalFit.to),
        toSec: firstUnseen,
      },
    ],
    seen: { fromSec: Math.min(sec(finalFit.from), sec(train.from)), toSec: firstUnseen },
    purgeCandles,
  };
}

export interface InSampleWarning {
  /** the part of the window the model has seen (ISO, [from, to)) */
  from: string;
  to: string;
  /** its share of the window's time */
  share: number;
  /** the card's periods it overlaps, with the overlapped part */
  periods: { name: string; from: string; to: string }[];
  /** the first instant the model has not seen (ISO) */
  firstUnseen: string;
  message: string;
}

/** The IN-SAMPLE warning for a window (already clipped to the data), or undefined when it is out of sample. */
export function inSampleWarning(
  window: Span,
  seen: SeenMarket,
  fromFlag = "--from",
): InSampleWarning | undefined {
  const overlap = intersect(window, seen.seen);
  if (!overlap) return undefined;
  const share = (overlap.toSec - overlap.fromSec) / (window.toSec - window.fromSec);
  const periods = seen.periods.flatMap((p) => {
    const part = intersect(window, p);
    return part ? [{ name: p.name, from: iso(part.fromSec), to: iso(part.toSec) }] : [];
  });
  const firstUnseen = iso(seen.seen.toSec);
  const touched = periods.map((p) => `${p.name} ${p.from} .. ${p.to}`).join("; ");
  const message =
    `IN-SAMPLE: ${iso(overlap.fromSec)} .. ${iso(overlap.toSec)}, ${(share * 100).toFixed(1)}% of the window, ` +
    `is market the model was fitted or selected on (${touched || "between its periods"}). ` +
    `Results there flatter the model and say nothing about how it trades. ` +
    `The first candle it has not seen is ${firstUnseen}: start there (${fromFlag} ${firstUnseen}, the default) for an out-of-sample result.`;
  return { from: iso(overlap.fromSec), to: iso(overlap.toSec), share, periods, firstUnseen, message };
}

function intersect(a: Span, b: Span): Span | undefined {
  const fromSec = Math.max(a.fromSec, b.fromSec);
  const toSec = Math.min(a.toSec, b.toSec);
  return fromSec < toSec ? { fromSec, toSec } : undefined;
}

/** A given --from at or after the given --to is an error. */
export function checkOrder(fromSec: number | undefined, toSec: number | undefined): void {
  if (fromSec === undefined || toSec === undefined || fromSec < toSec) return;
  throw new WindowError(
    `--from ${iso(fromSec)} is not before --to ${iso(toSec)}: the window [from, to) is ${fromSec === toSec ? "empty" : "reversed"}. Give a --from earlier than --to, such as --from 2024-01-01 --to 2024-07-01.`,
  );
}

/** The candle open times of one series, ascending (BacktestSymbol fits). */
export interface CandleTimes {
  productId: string;
  start: Float64Array;
  length: number;
}

export interface BacktestWindow extends Span {
  /** how the start was chosen */
  fromChosen: "given" | "after the model's fitted data" | "first scorable candle";
  inSample?: InSampleWarning;
}

/**
 * The replay's window: cycles at candle closes in [fromSec, toSec), clipped to the closes the data
 * can replay (`replayable`: the first close with a full serving window .. one past the last close).
 * Without --from it starts at the first candle the model has not seen. Throws a WindowError for a
 * reversed window and for one in which no candle of any symbol closes.
 */
export function backtestWindow(
  requested: { fromSec?: number | undefined; toSec?: number | undefined },
  replayable: Span,
  symbols: readonly CandleTimes[],
  intervalSeconds: number,
  seen: SeenMarket | undefined,
): BacktestWindow {
  checkOrder(requested.fromSec, requested.toSec);
  const data = `the candles close from ${iso(replayable.fromSec)} (the first close with a full feature window) to ${iso(replayable.toSec - 1)}`;
  if (!(replayable.fromSec < replayable.toSec)) {
    throw new WindowError(
      `no symbol has enough candles to score (${symbols.length} series); the model needs a full feature window of history before its first signal.`,
    );
  }
  let fromChosen: BacktestWindow["fromChosen"] = "given";
  let from = requested.fromSec;
  if (from === undefined) {
    fromChosen =
      seen && seen.seen.toSec > replayable.fromSec
        ? "after the model's fitted data"
        : "first scorable candle";
    from = seen ? Math.max(seen.seen.toSec, replayable.fromSec) : replayable.fromSec;
  }
  const fromSec = Math.max(from, replayable.fromSec);
  const toSec = Math.min(requested.toSec ?? replayable.toSec, replayable.toSec);
  if (!(fromSec < toSec) || !anyCloseIn(symbols, intervalSeconds, fromSec, toSec)) {
    const asked = `[${iso(from)}, ${requested.toSec === undefined ? "the end of the data" : iso(requested.toSec)})`;
    if (fromChosen === "after the model's fitted data" && seen && replayable.toSec <= seen.seen.toSec) {
      throw new WindowError(
        `nothing to replay out of sample: ${data}, all before ${iso(seen.seen.toSec)}, the first candle the model has not seen. Give --from (and --to) inside the data to replay it anyway; the result will be marked IN-SAMPLE.`,
      );
    }
    throw new WindowError(
      `no candle of any symbol closes in the window ${asked}: ${data}. Choose --from and --to inside that span.`,
    );
  }
  const window: BacktestWindow = { fromSec, toSec, fromChosen };
  const inSample = seen ? inSampleWarning(window, seen) : undefined;
  if (inSample) window.inSample = inSample;
  return window;
}

/** Whether some candle closes (open + interval) in [fromSec, toSec). */
function anyCloseIn(
  symbols: readonly CandleTimes[],
  interval: number,
  fromSec: number,
  toSec: number,
): boolean {
  for (const s of symbols) {
    // the first candle that closes at or after fromSec
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s.start[mid] + interval < fromSec) lo = mid + 1;
      else hi = mid;
    }
    if (lo < s.length && s.start[lo] + interval < toSec) return true;
  }
  return false;
}

/** The warning as a terminal banner that cannot be missed. */
export function inSampleBanner(warning: InSampleWarning, width = 100): string {
  const rule = "!".repeat(width);
  const lines: string[] = [];
  let line = "";
  for (const word of warning.message.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width - 6) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return [rule, ...lines.map((l) => `!! ${l.padEnd(width - 6)} !!`), rule].join("\n");
}
