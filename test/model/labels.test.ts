import { describe, expect, it } from "vitest";
import {
  CLASS_DOWN,
  CLASS_HOLD,
  CLASS_UP,
  type LabelDefinition,
  labelSeries,
  UNLABELLED,
} from "#model/labels.js";

const label: LabelDefinition = {
  horizonCandles: 2,
  granularitySeconds: 3600,
  upReturn: 0.014,
  downReturn: -0.014,
};
const hours = (...h: number[]) => Float64Array.from(h, (x) => 1_700_000_000 + 3600 * x);

describe("labelSeries", () => {
  it("labels the close-to-close return over the horizon with strict fee-aware bounds", () => {
    const start = hours(0, 1, 2, 3, 4, 5);
    const close = Float64Array.from([100, 100, 101.39, 101.41, 98.6, 98]);
    // t0 -> t2: +1.39% (HOLD, inside the cost band); t1 -> t3: +1.41% (UP); t2 -> t4: -2.75% (DOWN);
    // t3 -> t5: 98/101.41-1 = -3.36% (DOWN); t4, t5 have no candle 2h later
    expect(Array.from(labelSeries(start, close, 6, label))).toEqual([
      CLASS_HOLD,
      CLASS_UP,
      CLASS_DOWN,
      CLASS_DOWN,
      UNLABELLED,
      UNLABELLED,
    ]);
  });

  it("finds the forward candle by time, leaving rows whose forward candle fell in a gap unlabelled", () => {
    const start = hours(0, 1, 3, 4, 5);
    const close = Float64Array.from([100, 100, 110, 90, 100]);
    // t0 needs t2 (missing); t1 -> t3 = 110 (UP); t3 -> t5 = 100/110-1 (DOWN); t4 needs t6 (absent)
    expect(Array.from(labelSeries(start, close, 5, label))).toEqual([
      UNLABELLED,
      CLASS_UP,
      CLASS_DOWN,
      UNLABELLED,
      UNLABELLED,
    ]);
  });
});
