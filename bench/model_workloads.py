"""Model workloads: what autologging adds to training, trackline and MLflow side by side.

These run like those of ``bench/workloads.py`` (which dispatches to ``COMMANDS`` here), in
the implementation's own interpreter, through the public API both packages share:
``<impl>.xgboost.autolog()`` and ``xgboost.train``. They need ``xgboost`` (and
``matplotlib`` for the importance plot) in that interpreter.

``autolog.xgb``: ``xgb.train`` for ``rounds`` rounds on a generated regression set
(``rows`` x ``cols``, plus a validation set of a fifth of that, evaluated every round), with
and without autologging, alternating, ``reps`` times each after one warm-up of each (imports,
the store's schema, thread pools). The wall-clock figures are the best of the ``reps``
samples (noise from other processes only adds time) and the overhead
``(with - without) / without`` in percent between them; ``cpu_overhead_pct`` is the same
from the median CPU time of the process (all its threads), which other processes disturb far
less; ``outside_loop_s`` is the median time autologging adds before and after the training
loop itself (measured with a callback's ``before_training``/``after_training``, the same for
both implementations). ``OMP_WAIT_POLICY=PASSIVE`` keeps XGBoost's threads from spinning
while they wait, which on a shared machine swings its times by several times. The checks
read back what autologging logged (one run per call, one ``validation-rmse`` point per
round, the model).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

try:
    from bench import workloads as wl
except ImportError:  # run as a script: bench/ itself is on sys.path
    import workloads as wl  # type: ignore[no-redef,import-not-found]

AUTOLOG_EXPERIMENT = "bench-autolog"
XGB_PARAMS = {"objective": "reg:squarederror", "max_depth": 6, "eta": 0.05, "seed": 42}


def _regression(rows: int, cols: int, seed: int = 7) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    weights = rng.normal(size=cols)
    x = rng.normal(size=(rows, cols))
    y = x @ weights + np.sin(x[:, 0] * 3) + rng.normal(scale=0.1, size=rows)
    return x, y


def wl_autolog_xgb(ctx: wl.Context, p: wl.Params) -> wl.Result:
    """``xgb.train`` with and without ``<impl>.xgboost.autolog()``."""
    # XGBoost's OpenMP threads spin while they wait; on a busy machine that makes both its
    # wall and CPU time swing by 2-4x from one call to the next. Sleeping waits keep the
    # work the same and the figures comparable (same setting for both implementations).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import xgboost as xgb

    class Window(xgb.callback.TrainingCallback):  # type: ignore[misc]
        """When the training loop itself started and ended, inside ``xgb.train``."""

        def before_training(self, model: Any) -> Any:
            self.start = time.perf_counter()
            return model

        def after_training(self, model: Any) -> Any:
            self.end = time.perf_counter()
            return model

    mod = ctx.mod
    experiment_id = ctx.experiment(AUTOLOG_EXPERIMENT)
    mod.set_experiment(experiment_id=experiment_id)
    rows, cols, rounds, reps = int(p["rows"]), int(p["cols"]), int(p["rounds"]), int(p["reps"])
    x, y = _regression(rows, cols)
    xv, yv = _regression(max(rows // 5, 10), cols, seed=8)
    dtrain, dvalid = xgb.DMatrix(x, label=y), xgb.DMatrix(xv, label=yv)

    outside: dict[str, list[float]] = {"plain": [], "autolog": []}

    def train(kind: str = "plain") -> tuple[float, float]:
        window = Window()
        wall, cpu = time.perf_counter(), time.process_time()
        xgb.train(
            XGB_PARAMS,
            dtrain,
            num_boost_round=rounds,
            evals=[(dvalid, "validation")],
            verbose_eval=False,
            callbacks=[window],
        )
        total, cpu = time.perf_counter() - wall, time.process_time() - cpu
        outside[kind].append(total - (window.end - window.start))
        return total, cpu

    def autologged() -> tuple[float, float]:
        mod.xgboost.autolog(silent=True)
        try:
            return train("autolog")
        finally:
            mod.xgboost.autolog(disable=True)

    train()
    autologged()  # warm-up: imports, tables, thread pools
    outside["plain"].clear()
    outside["autolog"].clear()
    plain: list[tuple[float, float]] = []
    logged: list[tuple[float, float]] = []
    for i in range(reps):
        pair: list[tuple[list[tuple[float, float]], Callable[[], tuple[float, float]]]] = [
            (plain, train),
            (logged, autologged),
        ]
        for samples, run in pair if i % 2 == 0 else reversed(pair):
            samples.append(run())
    # Noise on a shared machine only ever adds time: the best of the samples is the closest
    # to the machine's own speed, for wall time. CPU time (all threads of the process) is
    # much less sensitive to other processes; its median is reported too.
    plain_s, logged_s = min(w for w, _ in plain), min(w for w, _ in logged)
    plain_cpu = statistics.median(c for _, c in plain)
    logged_cpu = statistics.median(c for _, c in logged)
    overhead = (logged_s - plain_s) / plain_s * 100
    cpu_overhead = (logged_cpu - plain_cpu) / plain_cpu * 100
    # Before and after the training loop (run, params, datasets, model, plots): a short
    # interval, so its median is steady even when the loop's own time is not.
    fixed = statistics.median(outside["autolog"]) - statistics.median(outside["plain"])
    runs = ctx.all_runs(experiment_id)
    points = [len(ctx.client.get_metric_history(r.info.run_id, "validation-rmse")) for r in runs]
    with_model = sum(1 for r in runs if r.outputs and r.outputs.model_outputs)
    checks: wl.Checks = {}
    wl._check(checks, "autologged runs", reps + 1, len(runs))
    wl._check(checks, "runs with every round", reps + 1, sum(1 for n in points if n == rounds))
    wl._check(checks, "runs with a logged model", reps + 1, with_model)
    return wl.Result(
        {
            "plain_s": plain_s,
            "autolog_s": logged_s,
            "overhead_pct": overhead,
            "cpu_overhead_pct": cpu_overhead,
            "outside_loop_s": fixed,
        },
        checks,
        {
            "plain_samples_s": [w for w, _ in plain],
            "autolog_samples_s": [w for w, _ in logged],
            "outside_loop_samples_s": outside,
            "plain_cpu_samples_s": [c for _, c in plain],
            "autolog_cpu_samples_s": [c for _, c in logged],
            "median_overhead_pct": (
                statistics.median(w for w, _ in logged) / statistics.median(w for w, _ in plain) - 1
            )
            * 100,
            "xgboost": xgb.__version__,
            "params": XGB_PARAMS,
        },
    )


COMMANDS: dict[str, Callable[[wl.Context, wl.Params], wl.Result]] = {
    "autolog.xgb": wl_autolog_xgb,
}
