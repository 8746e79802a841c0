"""Convert an XGBoost (1.7) multi:softprob booster to an ai.onnx.ml TreeEnsembleClassifier.

Written by hand because onnxmltools is not available offline. The source of truth is the
booster's own JSON model (save_raw('json')): exact float32 split conditions and leaf values,
`default_left` for missing values and `tree_info` for the class each tree belongs to.

Semantics carried over (and checked by `margins_from_onnx_arrays` against booster.predict):
  * XGBoost goes to the left ("yes") child when x < split_condition (strict)  -> BRANCH_LT,
    true branch = left child.
  * A missing value (NaN) follows `default_left`  -> nodes_missing_value_tracks_true.
  * Tree t adds to the margin of class tree_info[t] (interleaved t % num_class in 1.7).
  * margin = base_score + sum of leaves; probabilities = softmax(margin)  -> base_values,
    post_transform SOFTMAX.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper

ML_OPSET = 3
ONNX_OPSET = 15


def booster_json(booster) -> dict:
    raw = booster.save_raw(raw_format="json")
    return json.loads(bytes(raw).decode("utf-8"))


def onnx_arrays_from_booster(booster) -> dict:
    model = booster_json(booster)
    learner = model["learner"]
    params = learner["learner_model_param"]
    num_class = int(params["num_class"])
    if num_class < 2:
        raise ValueError("expected a multi-class booster (multi:softprob); num_class=%s" % num_class)
    objective = learner["objective"]["name"]
    if objective not in ("multi:softprob", "multi:softmax"):
        raise ValueError("unsupported objective %s: only multi:softprob is converted" % objective)
    base_score = float(np.float32(float(params["base_score"])))
    gbm = learner["gradient_booster"]
    if gbm["name"] != "gbtree":
        raise ValueError("only gbtree boosters are supported, got %s" % gbm["name"])
    trees = gbm["model"]["trees"]
    tree_info = gbm["model"]["tree_info"]
    if len(trees) != len(tree_info):
        raise ValueError("tree_info length does not match the number of trees")

    a = {
        "nodes_treeids": [],
        "nodes_nodeids": [],
        "nodes_featureids": [],
        "nodes_values": [],
        "nodes_modes": [],
        "nodes_truenodeids": [],
        "nodes_falsenodeids": [],
        "nodes_missing_value_tracks_true": [],
        "class_treeids": [],
        "class_nodeids": [],
        "class_ids": [],
        "class_weights": [],
    }
    for t, tree in enumerate(trees):
        if any(int(s) != 0 for s in tree.get("split_type", [])):
            raise ValueError("categorical splits are not supported (tree %d)" % t)
        left = tree["left_children"]
        right = tree["right_children"]
        cond = tree["split_conditions"]
        feat = tree["split_indices"]
        default_left = tree["default_left"]
        cls = int(tree_info[t])
        for n in range(len(left)):
            a["nodes_treeids"].append(t)
            a["nodes_nodeids"].append(n)
            if left[n] == -1:
                a["nodes_featureids"].append(0)
                a["nodes_values"].append(0.0)
                a["nodes_modes"].append("LEAF")
                a["nodes_truenodeids"].append(0)
                a["nodes_falsenodeids"].append(0)
                a["nodes_missing_value_tracks_true"].append(0)
                a["class_treeids"].append(t)
                a["class_nodeids"].append(n)
                a["class_ids"].append(cls)
                a["class_weights"].append(float(np.float32(cond[n])))
            else:
                a["nodes_featureids"].append(int(feat[n]))
                a["nodes_values"].append(float(np.float32(cond[n])))
                a["nodes_modes"].append("BRANCH_LT")
                a["nodes_truenodeids"].append(int(left[n]))
                a["nodes_falsenodeids"].append(int(right[n]))
                a["nodes_missing_value_tracks_true"].append(1 if int(default_left[n]) else 0)
    a["base_values"] = [base_score] * num_class
    a["num_class"] = num_class
    a["num_feature"] = int(params["num_feature"])
    a["num_trees"] = len(trees)
    return a


def margins_from_onnx_arrays(a: dict, X: np.ndarray) -> np.ndarray:
    """Walk the converted arrays in numpy (float32 comparisons), independent of onnxruntime."""
    X = np.asarray(X, dtype=np.float32)
    by_tree: dict[int, dict[int, int]] = {}
    for i, (t, n) in enumerate(zip(a["nodes_treeids"], a["nodes_nodeids"])):
        by_tree.setdefault(t, {})[n] = i
    leaf_weight = {}
    for t, n, c, w in zip(a["class_treeids"], a["class_nodeids"], a["class_ids"], a["class_weights"]):
        leaf_weight[(t, n)] = (c, np.float32(w))
    margins = np.tile(np.array(a["base_values"], dtype=np.float64), (X.shape[0], 1))
    values = np.array(a["nodes_values"], dtype=np.float32)
    for t, nodes in by_tree.items():
        for r in range(X.shape[0]):
            n = 0
            while True:
                i = nodes[n]
                if a["nodes_modes"][i] == "LEAF":
                    c, w = leaf_weight[(t, n)]
                    margins[r, c] += w
                    break
                x = X[r, a["nodes_featureids"][i]]
                if np.isnan(x):
                    go_true = a["nodes_missing_value_tracks_true"][i] == 1
                else:
                    go_true = x < values[i]
                n = a["nodes_truenodeids"][i] if go_true else a["nodes_falsenodeids"][i]
    return margins


def softmax(m: np.ndarray) -> np.ndarray:
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def to_onnx(booster, *, name: str, doc: str = "", metadata: dict | None = None) -> onnx.ModelProto:
    a = onnx_arrays_from_booster(booster)
    num_class = a["num_class"]
    node = helper.make_node(
        "TreeEnsembleClassifier",
        inputs=["features"],
        outputs=["label", "probabilities"],
        name="xgboost_trees",
        domain="ai.onnx.ml",
        classlabels_int64s=list(range(num_class)),
        post_transform="SOFTMAX",
        base_values=a["base_values"],
        nodes_treeids=a["nodes_treeids"],
        nodes_nodeids=a["nodes_nodeids"],
        nodes_featureids=a["nodes_featureids"],
        nodes_values=a["nodes_values"],
        nodes_modes=a["nodes_modes"],
        nodes_truenodeids=a["nodes_truenodeids"],
        nodes_falsenodeids=a["nodes_falsenodeids"],
        nodes_missing_value_tracks_true=a["nodes_missing_value_tracks_true"],
        class_treeids=a["class_treeids"],
        class_nodeids=a["class_nodeids"],
        class_ids=a["class_ids"],
        class_weights=a["class_weights"],
    )
    graph = helper.make_graph(
        [node],
        name,
        inputs=[helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", a["num_feature"]])],
        outputs=[
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", num_class]),
        ],
    )
    model = helper.make_model(
        graph,
        producer_name="models/training/xgb_to_onnx.py",
        doc_string=doc,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
    )
    model.ir_version = 8
    for k, v in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key = k
        entry.value = str(v)
    onnx.checker.check_model(model)
    return model


def check_against_booster(booster, X: np.ndarray, tolerance: float = 1e-5) -> float:
    """Max |p_xgboost - p_converted| on X; raises if above tolerance."""
    import xgboost as xgb

    a = onnx_arrays_from_booster(booster)
    ours = softmax(margins_from_onnx_arrays(a, X))
    theirs = booster.predict(xgb.DMatrix(np.asarray(X, dtype=np.float32), missing=np.nan))
    diff = float(np.max(np.abs(ours - theirs)))
    if diff > tolerance:
        raise AssertionError("converted trees disagree with XGBoost: max |dp| = %g" % diff)
    return diff
