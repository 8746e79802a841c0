"""Train the signal model on the feature matrix exported by bin/train.ts.

Offline only: run by `npm run train` with /usr/bin/python3 (Debian python3-xgboost 1.7.4,
python3-onnx 1.12). Nothing at run time or in the tests needs Python.

Input (written by models/training/pipeline.ts into the cache dir):
  header.json, features.f32 (row-major rows x featureCount float32, NaN = missing),
  labels.i8 (0 DOWN, 1 HOLD, 2 UP), split.u8 (0 train, 1 selection, 2 test).
Output: the ONNX model, the parity fixture and a JSON training report.

Model selection: every grid entry is trained on the train split and scored per boosting round on
the selection split (the 6 months before the test period); the (depth, rounds) with the lowest
selection log loss wins. The final model is retrained with those settings on train + selection and
is never tuned on the test split.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xgb_to_onnx import check_against_booster, onnx_arrays_from_booster, to_onnx  # noqa: E402

GRIDS = {
    "full": [
        {"max_depth": 2, "eta": 0.1},
        {"max_depth": 4, "eta": 0.1},
        {"max_depth": 6, "eta": 0.1},
    ],
    "quick": [{"max_depth": 3, "eta": 0.3}],
}
COMMON = {
    "objective": "multi:softprob",
    # early stopping watches the LAST metric, so mlogloss goes last
    "eval_metric": ["merror", "mlogloss"],
    "tree_method": "hist",
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 20,
    "lambda": 1.0,
    "max_bin": 256,
}


def log(msg: str) -> None:
    print("[train.py] " + msg, flush=True)


def load(cache: str):
    with open(os.path.join(cache, "header.json")) as f:
        header = json.load(f)
    n, k = header["rows"], header["featureCount"]
    X = np.fromfile(os.path.join(cache, header["files"]["features"]), dtype="<f4").reshape(n, k)
    y = np.fromfile(os.path.join(cache, header["files"]["labels"]), dtype=np.int8).astype(np.int32)
    split = np.fromfile(os.path.join(cache, header["files"]["split"]), dtype=np.uint8)
    if y.shape[0] != n or split.shape[0] != n:
        raise SystemExit("cache is inconsistent: rows=%d labels=%d split=%d" % (n, y.shape[0], split.shape[0]))
    return header, X, y, split


def multiclass_log_loss(p: np.ndarray, y: np.ndarray) -> float:
    eps = 1e-15
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], eps, 1.0))))


def f32(v) -> str | None:
    v = np.float32(v)
    if np.isnan(v):
        return None
    return str(v)


def parity_rows(booster, X_test: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """>= 1000 rows: real test rows, rows with NaN features, rows sitting exactly on split thresholds."""
    a = onnx_arrays_from_booster(booster)
    splits = [(f, v) for f, v, m in zip(a["nodes_featureids"], a["nodes_values"], a["nodes_modes"]) if m == "BRANCH_LT"]
    k = X_test.shape[1]
    pick = lambda count: X_test[rng.integers(0, X_test.shape[0], size=count)].copy()  # noqa: E731
    real = pick(700)
    some_nan = pick(150)
    some_nan[rng.random(some_nan.shape) < 0.25] = np.nan
    all_nan = np.full((10, k), np.nan, dtype=np.float32)
    on_threshold = pick(200)
    for r in range(on_threshold.shape[0]):
        for _ in range(8):
            f, v = splits[rng.integers(0, len(splits))]
            on_threshold[r, f] = np.float32(v)
    # a row that walks every root split exactly on its threshold
    roots = np.array(X_test[0], copy=True)
    for f, v, t, n in zip(a["nodes_featureids"], a["nodes_values"], a["nodes_treeids"], a["nodes_nodeids"]):
        if n == 0:
            roots[f] = np.float32(v)
    extreme = pick(20)
    extreme[:, rng.integers(0, k, size=5)] = np.float32(3e38)
    extreme[10:, rng.integers(0, k, size=5)] = np.float32(-3e38)
    rows = np.vstack([real, some_nan, all_nan, on_threshold, roots[None, :], extreme]).astype(np.float32)
    kinds = (
        ["real"] * len(real)
        + ["nan"] * len(some_nan)
        + ["all-nan"] * len(all_nan)
        + ["on-threshold"] * len(on_threshold)
        + ["root-thresholds"]
        + ["extreme"] * len(extreme)
    )
    return rows, kinds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--parity", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--grid", default="full", choices=sorted(GRIDS))
    ap.add_argument("--max-rounds", type=int, default=300)
    ap.add_argument("--early-stopping", type=int, default=25)
    ap.add_argument(
        "--selection-stride", type=int, default=3,
        help="grid search trains on every n-th train row (hourly rows with 12h labels are strongly autocorrelated)",
    )
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--model-name", default="signal-model")
    args = ap.parse_args()

    header, X, y, split = load(args.cache)
    num_class = len(header["classNames"])
    log("rows=%d features=%d train=%d selection=%d test=%d" % (
        X.shape[0], X.shape[1], (split == 0).sum(), (split == 1).sum(), (split == 2).sum()))
    base = dict(COMMON, num_class=num_class, nthread=args.threads, seed=args.seed)

    train_idx = np.flatnonzero(split == 0)[:: args.selection_stride]
    d_train = xgb.DMatrix(X[train_idx], label=y[train_idx], missing=np.nan)
    d_sel = xgb.DMatrix(X[split == 1], label=y[split == 1], missing=np.nan)
    tried = []
    for entry in GRIDS[args.grid]:
        params = dict(base, **entry)
        history: dict = {}
        t0 = time.time()
        booster = xgb.train(
            params, d_train, num_boost_round=args.max_rounds, evals=[(d_sel, "selection")],
            evals_result=history, early_stopping_rounds=args.early_stopping, verbose_eval=False,
        )
        seconds = time.time() - t0
        losses = history["selection"]["mlogloss"]
        errors = history["selection"]["merror"]
        best = int(np.argmin(losses))
        result = {
            **entry,
            "roundsTrained": len(losses),
            "bestRounds": best + 1,
            "selectionLogLoss": float(losses[best]),
            "selectionAccuracy": float(1.0 - errors[best]),
            "selectionLogLossAtRound": {str(r): float(losses[r - 1]) for r in (10, 25, 50, 100, 200, 300) if r <= len(losses)},
            "trainSeconds": round(seconds, 1),
        }
        tried.append(result)
        log("tried %s" % json.dumps(result))
    chosen = min(tried, key=lambda r: r["selectionLogLoss"])
    log("chosen depth=%d eta=%g rounds=%d" % (chosen["max_depth"], chosen["eta"], chosen["bestRounds"]))

    fit = split <= 1
    d_fit = xgb.DMatrix(X[fit], label=y[fit], missing=np.nan)
    final_params = dict(base, max_depth=chosen["max_depth"], eta=chosen["eta"])
    t0 = time.time()
    booster = xgb.train(final_params, d_fit, num_boost_round=chosen["bestRounds"], verbose_eval=False)
    final_seconds = time.time() - t0

    X_test, y_test = X[split == 2], y[split == 2]
    p_test = booster.predict(xgb.DMatrix(X_test, missing=np.nan))
    rng = np.random.default_rng(args.seed)
    converter_diff = check_against_booster(booster, X_test[rng.integers(0, len(X_test), size=300)])
    log("converter check (numpy walk of ONNX arrays vs XGBoost): max |dp| = %.3g" % converter_diff)

    model = to_onnx(
        booster, name=args.model_name,
        doc="XGBoost %s multi:softprob, classes %s, features %d" % (xgb.__version__, header["classNames"], X.shape[1]),
        metadata={"classes": ",".join(header["classNames"]), "feature_count": X.shape[1]},
    )
    blob = model.SerializeToString()
    with open(args.onnx, "wb") as f:
        f.write(blob)
    sha = hashlib.sha256(blob).hexdigest()
    log("wrote %s (%d bytes, sha256 %s)" % (args.onnx, len(blob), sha[:12]))

    rows, kinds = parity_rows(booster, X_test, rng)
    probs = booster.predict(xgb.DMatrix(rows, missing=np.nan))
    kind_counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
    with open(args.parity, "w") as f:
        f.write('{"modelSha256":"%s","featureCount":%d,"classNames":%s,"kinds":%s,\n"rows":[\n' % (
            sha, X.shape[1], json.dumps(header["classNames"]), json.dumps(kind_counts)))
        f.write(",\n".join(json.dumps([f32(v) for v in r]).replace('"', "") for r in rows))
        f.write('\n],\n"probabilities":[\n')
        f.write(",\n".join(json.dumps([f32(v) for v in p]).replace('"', "") for p in probs))
        f.write("\n]}\n")

    names = header["featureNames"]
    gain = booster.get_score(importance_type="total_gain")
    total_gain = sum(gain.values()) or 1.0
    importance = sorted(
        ({"feature": names[int(k[1:])], "share": v / total_gain} for k, v in gain.items()),
        key=lambda e: -e["share"],
    )
    a = onnx_arrays_from_booster(booster)
    report = {
        "xgboostVersion": xgb.__version__,
        "params": {k: v for k, v in final_params.items() if k not in ("nthread",)},
        "grid": args.grid,
        "maxRounds": args.max_rounds,
        "selectionStride": args.selection_stride,
        "selectionTrainRows": int(len(train_idx)),
        "earlyStoppingRounds": args.early_stopping,
        "tried": tried,
        "chosen": chosen,
        "rounds": chosen["bestRounds"],
        "trees": a["num_trees"],
        "nodes": len(a["nodes_nodeids"]),
        "finalTrainRows": int(fit.sum()),
        "finalTrainSeconds": round(final_seconds, 1),
        "onnxSha256": sha,
        "onnxBytes": len(blob),
        "converterMaxAbsDiff": converter_diff,
        "testCheck": {
            "rows": int(len(y_test)),
            "logLoss": multiclass_log_loss(p_test, y_test),
            "accuracy": float(np.mean(np.argmax(p_test, axis=1) == y_test)),
        },
        "featureImportanceTop": importance[:15],
        "parityRows": int(len(rows)),
    }
    with open(args.report, "w") as f:
        json.dump(report, f, indent=2)
    log("test check (XGBoost itself): %s" % json.dumps(report["testCheck"]))


if __name__ == "__main__":
    main()
