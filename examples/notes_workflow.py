"""The course notes' tracking workflow on scikit-learn's bundled diabetes data.

Runs with ``import trackline as mlflow`` into the default store (``./mlruns``) unless
``--tracking-uri`` says otherwise:

1. a manual Lasso run: a tag, params, a metric and the pickled model as an artifact;
2. a hyperopt sweep whose objective opens one run per trial and trains XGBoost;
3. the client's search for the best runs, as in the notes' registry chapter;
4. then it serves the web UI on what it tracked (``trackline ui``, http://127.0.0.1:5000)
   until Ctrl+C; ``--no-serve`` (or ``TRACKLINE_DEMO_NO_SERVE=1``) skips that.
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import xgboost as xgb
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
from hyperopt.pyll import scope
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso
from sklearn.model_selection import train_test_split

import trackline as mlflow
from trackline.entities import ViewType
from trackline.tracking import MlflowClient


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=None, help="default: the folder ./mlruns")
    parser.add_argument("--trials", type=int, default=10, help="hyperopt evaluations")
    parser.add_argument(
        "--no-serve", action="store_true", help="do not serve the web UI at the end"
    )
    parser.add_argument("--port", type=int, default=5000, help="the web UI's port")
    args = parser.parse_args()

    if args.tracking_uri:
        mlflow.set_tracking_uri(args.tracking_uri)
    experiment = mlflow.set_experiment("diabetes-experiment")

    X, y = load_diabetes(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0)

    # 1. The manual run of the notes' first chapter.
    with mlflow.start_run(run_name="lasso"), tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tag("developer", "trackline-demo")
        mlflow.log_param("train-data-path", "sklearn.datasets.load_diabetes")
        mlflow.log_param("valid-data-path", "sklearn.datasets.load_diabetes (25% split)")
        alpha = 0.1
        mlflow.log_param("alpha", alpha)
        lr = Lasso(alpha=alpha).fit(X_train, y_train)
        mlflow.log_metric("rmse", rmse(y_val, lr.predict(X_val)))
        model_file = Path(tmp) / "lin_reg.bin"
        model_file.write_bytes(pickle.dumps(lr))
        mlflow.log_artifact(local_path=str(model_file), artifact_path="models_pickle")

    # 2. The hyperopt sweep: one run per trial, tagged model=xgboost.
    train = xgb.DMatrix(X_train, label=y_train)
    valid = xgb.DMatrix(X_val, label=y_val)

    def objective(params: dict[str, object]) -> dict[str, object]:
        with mlflow.start_run():
            mlflow.set_tag("model", "xgboost")
            mlflow.log_params(params)
            booster = xgb.train(
                params=params,
                dtrain=train,
                num_boost_round=200,
                evals=[(valid, "validation")],
                early_stopping_rounds=20,
                verbose_eval=False,
            )
            score = rmse(y_val, booster.predict(valid))
            mlflow.log_metric("rmse", score)
        return {"loss": score, "status": STATUS_OK}

    search_space = {
        "max_depth": scope.int(hp.quniform("max_depth", 2, 8, 1)),
        "learning_rate": hp.loguniform("learning_rate", -3, 0),
        "reg_alpha": hp.loguniform("reg_alpha", -5, -1),
        "reg_lambda": hp.loguniform("reg_lambda", -6, -1),
        "min_child_weight": hp.loguniform("min_child_weight", -1, 3),
        "objective": "reg:squarederror",
        "seed": 42,
    }
    fmin(
        fn=objective,
        space=search_space,
        algo=tpe.suggest,
        max_evals=args.trials,
        trials=Trials(),
        rstate=np.random.default_rng(42),
        show_progressbar=False,
    )

    # 3. The notes' search: the best runs by rmse.
    client = MlflowClient(tracking_uri=mlflow.get_tracking_uri())
    runs = client.search_runs(
        experiment_ids=experiment.experiment_id,
        filter_string="metrics.rmse < 80",
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=5,
        order_by=["metrics.rmse ASC"],
    )
    print("Best runs:")
    for run in runs:
        print(f"  run id: {run.info.run_id}, rmse: {run.data.metrics['rmse']:.4f}")
    print(f"\nTracked into {mlflow.get_tracking_uri()} (experiment {experiment.name!r}).")
    if args.no_serve or os.environ.get("TRACKLINE_DEMO_NO_SERVE") == "1":
        print(f"Look at it with: trackline ui --backend-store-uri {mlflow.get_tracking_uri()}")
        return
    # 4. The web UI on the demo's store (what `trackline ui` does), until Ctrl+C.
    from trackline.cli import main as trackline_cli

    print("Serving the web UI on it:")
    trackline_cli(
        ["ui", "--backend-store-uri", mlflow.get_tracking_uri(), "--port", str(args.port)]
    )


if __name__ == "__main__":
    main()
