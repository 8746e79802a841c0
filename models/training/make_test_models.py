"""Tiny ONNX models for the loader's failure tests (test/fixtures/model/):

  wrong-width.onnx  a valid 3-class model over 5 features (the engine computes 51)
  two-class.onnx    a valid 2-class model over 51 features (the runtime needs 3 classes)

Run: /usr/bin/python3 models/training/make_test_models.py test/fixtures/model
"""

import os
import sys

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xgb_to_onnx import check_against_booster, to_onnx  # noqa: E402


def tiny(features: int, classes: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, features)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (classes > 2) * (X[:, 1] > 0.5)
    params = {"objective": "multi:softprob", "num_class": classes, "max_depth": 2, "tree_method": "hist", "seed": seed}
    booster = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=3)
    check_against_booster(booster, X)
    return booster


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/model"
    os.makedirs(out, exist_ok=True)
    for name, features, classes in (("wrong-width", 5, 3), ("two-class", 51, 2)):
        model = to_onnx(tiny(features, classes, 1), name=name, doc="test fixture: %d features, %d classes" % (features, classes))
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(model.SerializeToString())


if __name__ == "__main__":
    main()
