"""Feature importance of a trained XGBoost model, logged as MLflow's autolog logs it: per
importance type, the scores as ``feature_importance_<type>.json`` and a horizontal bar chart
``feature_importance_<type>.png`` (the chart needs matplotlib, the ``plots`` extra).

The chart is most of what autologging costs once training is over, so it is drawn the
cheap way: on an Agg canvas of its own (no pyplot state, no backend lookup when saved), with
no layout pass (margins from the longest feature name, not ``tight_layout()``; the title and
the empty y label placed where matplotlib's automatic placement would put them, without
measuring every tick label to find out) and with lighter PNG compression.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from trackline.autolog.patching import Session

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["log_importance"]

_logger = logging.getLogger("trackline.autolog")
#: zlib level of the chart's PNG. Pillow's default, 6, took ~9.5 ms to encode the 640 x 680
#: chart of 20 features here (23 kB); 3 took ~6.5 ms (28 kB).
_PNG_COMPRESS_LEVEL = 3


def log_importance(session: Session, model: Any) -> None:
    """Log the scores of a Booster (or of a scikit-learn API estimator's booster) for every
    configured importance type; each type is a step of its own (a failure skips that one)."""
    types = session.config.options["importance_types"]
    if not types:
        return
    booster: Any = model
    if hasattr(model, "get_booster"):
        booster = None
        with session.guard("read the booster"):
            booster = model.get_booster()
        if booster is None:
            return
    for importance_type in types:
        with session.guard(f"log the feature importance ({importance_type})"):
            _log_one(session, importance_type, booster.get_score(importance_type=importance_type))


def _log_one(session: Session, importance_type: str, scores: dict[str, Any]) -> None:
    session.client.log_text(
        session.run_id, json.dumps(scores), f"feature_importance_{importance_type}.json"
    )
    if not scores:
        return
    try:
        figure = _chart(scores, importance_type)
    except ImportError:
        _logger.debug("matplotlib is not installed: no feature importance plot")
        return
    session.client.log_figure(
        session.run_id,
        figure,
        f"feature_importance_{importance_type}.png",
        save_kwargs={"pil_kwargs": {"compress_level": _PNG_COMPRESS_LEVEL}},
    )


def _chart(scores: dict[str, Any], importance_type: str) -> Figure:
    """The bar chart, on an Agg canvas of its own: one bar per feature (per class for
    multi-class scores), least important at the bottom."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = np.array(list(scores))
    values = np.array([np.atleast_1d(scores[n]) for n in names], dtype=float)
    order = np.argsort(np.abs(values).sum(axis=1))
    names, values = names[order], values[order]
    features, classes = values.shape
    height = 4.8 + (0.1 * features if features > 10 else 0) + (0.1 * classes if classes > 1 else 0)
    figure = Figure(figsize=(6.4, height))
    FigureCanvasAgg(figure)
    # Margins from the longest name, not tight_layout(): that would cost a third of the plot.
    longest = max(len(str(n)) for n in names)
    figure.subplots_adjust(
        left=min(0.5, 0.04 + (14 + 7 * longest) / 640),
        right=0.96,
        top=1 - 0.45 / height,
        bottom=0.5 / height,
    )
    axes = figure.subplots()
    positions = np.arange(features)
    offsets = np.linspace(-0.5, 0.5, classes) / 2 if classes > 1 else np.zeros(1)
    for index in range(classes):
        axes.barh(
            positions + offsets[index],
            values[:, index],
            align="center",
            height=0.5 / max(classes - 1, 1),
            label=f"Class {index}" if classes > 1 else None,
        )
    axes.set_yticks(positions, labels=[str(n) for n in names])
    axes.set_xlabel("Importance")
    # Where matplotlib would put them anyway, but given: finding the title's place (above any
    # top tick labels: there are none) and the y label's (beside the tick labels: there is
    # none) measures every tick label's text, a tenth of the chart's cost. Same pixels.
    axes.set_title(f"Feature Importance ({importance_type})", y=1.0)
    axes.yaxis.set_label_coords(0, 0.5)
    if classes > 1:
        axes.legend()
    return figure
