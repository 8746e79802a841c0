/**
 * Training runs Python (train.py, xgb_to_onnx.py) with Debian's packages. Before the feature export
 * (a minute of work) this asks the interpreter whether it can import what those scripts import, so a
 * missing package is one line naming the Debian package, not a Python traceback at the end.
 */
import { spawnSync } from "node:child_process";

/** the Python modules train.py and xgb_to_onnx.py import, and the Debian package of each */
export const TRAINING_PYTHON_PACKAGES: Readonly<Record<string, string>> = {
  numpy: "python3-numpy",
  xgboost: "python3-xgboost",
  onnx: "python3-onnx",
};

/** Python cannot train: the message names the interpreter, what it lacks and the install command. */
export class PythonSetupError extends Error {
  override readonly name = "PythonSetupError";
}

const PROBE = [
  "import importlib.util, sys",
  "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))",
].join("\n");

/** Throws a PythonSetupError unless `python` runs and finds every training package. */
export function checkTrainingPython(python: string): void {
  const modules = Object.keys(TRAINING_PYTHON_PACKAGES);
  const all = Object.values(TRAINING_PYTHON_PACKAGES).join(" ");
  const probe = spawnSync(python, ["-c", PROBE, ...modules], { encoding: "utf8", timeout: 30_000 });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? (probe.error as NodeJS.ErrnoException).code : `exit code ${probe.status}`;
    throw new PythonSetupError(
      `cannot run ${python} (${why}): training needs Python 3 with ${modules.join(", ")}; install Debian's python3 ${all}, or pass --python <interpreter>`,
    );
  }
  const missing = probe.stdout.trim().split(/\s+/).filter(Boolean);
  if (missing.length > 0) {
    throw new PythonSetupError(
      `${python} cannot import ${missing.join(", ")}, which training needs: sudo apt-get install ${missing.map((m) => TRAINING_PYTHON_PACKAGES[m]).join(" ")}${missing.length < modules.length ? ` (the whole set: ${all})` : ""}, or pass --python <interpreter with them>`,
    );
  }
}
