"""Dicts, figures and images written as artifact files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from trackline.exceptions import InvalidParameterValue
from trackline.tracking.figures import dump_dict, save_figure, save_image


def test_dump_dict_by_extension() -> None:
    value = {"b": [1, 2], "a": {"x": "é"}}
    assert json.loads(dump_dict(value, "c.json")) == value
    assert json.loads(dump_dict(value, "no-extension")) == value
    assert yaml.safe_load(dump_dict(value, "c.yaml")) == value
    assert yaml.safe_load(dump_dict(value, "C.YML")) == value


class PlotlyLikeFigure:
    """The two methods of plotly's Figure that log_figure uses (plotly is not installed)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def write_html(self, path: str, **kwargs: Any) -> None:
        self.calls.append(("html", kwargs))
        Path(path).write_text("<html></html>")

    def write_image(self, path: str, **kwargs: Any) -> None:
        self.calls.append(("image", kwargs))
        Path(path).write_bytes(b"img")


def test_plotly_figures_by_extension(tmp_path: Path) -> None:
    figure = PlotlyLikeFigure()
    save_figure(figure, str(tmp_path / "f.html"), {"include_plotlyjs": "cdn"})
    save_figure(figure, str(tmp_path / "f.png"), {})
    assert figure.calls == [("html", {"include_plotlyjs": "cdn"}), ("image", {})]
    with pytest.raises(InvalidParameterValue, match="plotly"):
        save_figure(figure, str(tmp_path / "f.txt"), {})


def test_matplotlib_figure_with_save_kwargs(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(2, 1))
    try:
        save_figure(figure, str(tmp_path / "f.png"), {"dpi": 50})
    finally:
        plt.close(figure)
    with Image.open(tmp_path / "f.png") as image:
        assert image.size == (100, 50)


@pytest.mark.parametrize(
    ("array", "mode", "pixel"),
    [
        (np.full((2, 3), 7, dtype=np.int64), "L", 7),
        (np.ones((2, 3, 1)), "L", 255),
        (np.zeros((2, 3, 3), dtype=np.uint8), "RGB", (0, 0, 0)),
        (np.full((2, 3, 4), 0.0), "RGBA", (0, 0, 0, 0)),
        (np.ones((2, 3), dtype=bool), "L", 255),
    ],
)
def test_numpy_images(tmp_path: Path, array: Any, mode: str, pixel: Any) -> None:
    save_image(array, str(tmp_path / "i.png"))
    with Image.open(tmp_path / "i.png") as image:
        assert image.mode == mode
        assert image.size == (3, 2)
        assert image.getpixel((0, 0)) == pixel


@pytest.mark.parametrize(
    "bad",
    [
        np.full((2, 2), 300),
        np.full((2, 2), -1),
        np.full((2, 2), np.nan),
        np.zeros((2,)),
        np.zeros((2, 2), dtype=complex),
        [[0, 1]],
    ],
)
def test_invalid_images(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(InvalidParameterValue):
        save_image(bad, str(tmp_path / "i.png"))
    assert not (tmp_path / "i.png").exists()
