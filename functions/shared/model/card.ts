import { z } from "zod";
import { CLASS_NAMES } from "./labels.js";

const Share = z.number().min(0).max(1);
const NullableShare = Share.nullable();
const Count = z.number().int().nonnegative();
const IsoTime = z.iso.datetime({ offset: false });

const ClassRecord = <T extends z.ZodType>(value: T) => z.object({ DOWN: value, HOLD: value, UP: value });

const CalibrationBinSchema = z.object({
  from: Share,
  to: Share,
  count: Count,
  meanPredicted: NullableShare,
  observed: NullableShare,
});

const SignalScoreSchema = z.object({
  count: Count,
  rate: Share,
  hitRate: NullableShare,
  wrongWayRate: NullableShare,
});

export const DecisionThresholdsSchema = z.object({ buy: Share, sell: Share });

export const ClassificationMetricsSchema = z.object({
  rows: z.number().int().positive(),
  accuracy: Share,
  logLoss: z.number().nonnegative(),
  classBalance: ClassRecord(Share),
  perClass: ClassRecord(
    z.object({ support: Count, predicted: Count, precision: NullableShare, recall: NullableShare }),
  ),
  confusion: z.array(z.array(Count).length(3)).length(3),
  calibration: ClassRecord(z.array(CalibrationBinSchema)),
  signals: z.object({
    thresholds: DecisionThresholdsSchema,
    BUY: SignalScoreSchema,
    SELL: SignalScoreSchema,
    HOLD: SignalScoreSchema,
  }),
});

const PeriodSchema = z.object({
  /** inclusive, ISO UTC */
  from: IsoTime,
  /** exclusive, ISO UTC */
  to: IsoTime,
  rows: Count,
  classBalance: ClassRecord(Share),
});

export const LabelDefinitionSchema = z.object({
  horizonCandles: z.number().int().positive(),
  granularitySeconds: z.number().int().positive(),
  upReturn: z.number().positive(),
  downReturn: z.number().negative(),
  definition: z.string().min(1),
  costBasis: z.object({
    takerFeePerSide: z.number().nonnegative(),
    slippagePerSide: z.number().nonnegative(),
    roundTripCost: z.number().nonnegative(),
  }),
});

const TriedConfigSchema = z.object({
  max_depth: z.number().int().positive(),
  eta: z.number().positive(),
  roundsTrained: z.number().int().positive(),
  bestRounds: z.number().int().positive(),
  selectionLogLoss: z.number().nonnegative(),
  selectionAccuracy: Share,
  selectionLogLossAtRound: z.record(z.string(), z.number()),
  trainSeconds: z.number().nonnegative(),
});

/** The model card (models/signal-model.card.json): what the model is, how it was made, how good it is. */
export const ModelCardSchema = z.object({
  schemaVersion: z.literal(1),
  name: z.string().min(1),
  /** trainedAt date + first 12 hex of the ONNX file's sha256 */
  version: z.string().min(1),
  trainedAt: IsoTime,
  model: z.object({
    file: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().positive(),
    format: z.string().min(1),
    inputName: z.string().min(1),
    outputNames: z.object({ label: z.string().min(1), probabilities: z.string().min(1) }),
    trainer: z.string().min(1),
    params: z.record(z.string(), z.unknown()),
    rounds: z.number().int().positive(),
    trees: z.number().int().positive(),
    maxDepth: z.number().int().positive(),
  }),
  classes: z.tuple([z.literal(CLASS_NAMES[0]), z.literal(CLASS_NAMES[1]), z.literal(CLASS_NAMES[2])]),
  features: z.object({ count: z.number().int().positive(), names: z.array(z.string().min(1)) }),
  data: z.object({
    source: z.string().min(1),
    granularity: z.string().min(1),
    symbols: z.array(z.string().min(1)).min(1),
    warmupCandles: Count,
  }),
  label: LabelDefinitionSchema,
  split: z.object({
    description: z.string().min(1),
    purgeCandles: z.number().int().positive(),
    train: PeriodSchema,
    selection: PeriodSchema,
    finalFit: PeriodSchema,
    validation: PeriodSchema,
  }),
  selection: z.object({
    criterion: z.string().min(1),
    tried: z.array(TriedConfigSchema).min(1),
  }),
  decisionThresholds: DecisionThresholdsSchema,
  /** metrics on the validation (test) period, computed from the ONNX model by the evaluate code */
  validation: ClassificationMetricsSchema,
  /** the same period scored by a model that always answers the final-fit class balance */
  validationBaseline: z.object({
    description: z.string().min(1),
    logLoss: z.number().nonnegative(),
    accuracy: Share,
  }),
  featureImportanceTop: z.array(z.object({ feature: z.string(), share: Share })),
});
export type ModelCard = z.infer<typeof ModelCardSchema>;

/** Where a model's card ships: beside it, `<name>.card.json` for `<name>.onnx`. */
export function cardPathFor(modelPath: string): string {
  return modelPath.replace(/\.onnx$/, ".card.json");
}
