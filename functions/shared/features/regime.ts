import { featureIndex } from "./names.js";
import { CHUNK_ROWS, type Workspace } from "./workspace.js";

export type MarketRegime = "TRENDING_UP" | "TRENDING_DOWN" | "RANGING" | "VOLATILE";

/** Numeric codes of the `regime` feature. */
export const REGIME_CODES: Readonly<Record<MarketRegime, number>> = {
  RANGING: 0,
  TRENDING_UP: 1,
  TRENDING_DOWN: -1,
  VOLATILE: 2,
};

/** Short-term realized volatility at least this multiple of the weekly one marks a volatile market. */
export const VOLATILE_RV_RATIO = 1.75;
/** ADX at or above this marks a trend (Wilder's classic threshold). */
export const TRENDING_ADX = 25;

const REGIME = featureIndex("regime");
const ADX = featureIndex("adx_14");
const PLUS_DI = featureIndex("plus_di_14");
const MINUS_DI = featureIndex("minus_di_14");
const RV_RATIO = featureIndex("rv_ratio_24_168");

/**
 * VOLATILE when rv_24 / rv_168 >= 1.75; otherwise TRENDING_UP / TRENDING_DOWN when ADX >= 25
 * (direction from +DI vs -DI); otherwise RANGING. Reads the ADX and volatility columns already in m.
 */
export function computeRegime(ws: Workspace): void {
  const { from, to, chunk: m } = ws;
  const ratio = RV_RATIO * CHUNK_ROWS - from;
  const adx = ADX * CHUNK_ROWS - from;
  const plus = PLUS_DI * CHUNK_ROWS - from;
  const minus = MINUS_DI * CHUNK_ROWS - from;
  const regime = REGIME * CHUNK_ROWS - from;
  for (let i = Math.max(from, 168); i < to; i++) {
    let code = REGIME_CODES.RANGING;
    if (m[ratio + i] >= VOLATILE_RV_RATIO) code = REGIME_CODES.VOLATILE;
    else if (m[adx + i] >= TRENDING_ADX)
      code = m[plus + i] >= m[minus + i] ? REGIME_CODES.TRENDING_UP : REGIME_CODES.TRENDING_DOWN;
    m[regime + i] = code;
  }
}

/** The regime label of a feature row (row starts at `offset` in `row`, e.g. i * FEATURE_COUNT in a matrix). */
export function regimeFromFeatures(row: Float64Array, offset = 0): MarketRegime {
  const code = row[offset + REGIME];
  switch (code) {
    case REGIME_CODES.RANGING:
      return "RANGING";
    case REGIME_CODES.TRENDING_UP:
      return "TRENDING_UP";
    case REGIME_CODES.TRENDING_DOWN:
      return "TRENDING_DOWN";
    case REGIME_CODES.VOLATILE:
      return "VOLATILE";
    default:
      throw new Error(
        `regimeFromFeatures: the regime feature (column ${REGIME}) at offset ${offset} is ${code}, not one of ${Object.values(REGIME_CODES).join(", ")}; the row is probably inside the warm-up (needs at least 169 candles).`,
      );
  }
}
