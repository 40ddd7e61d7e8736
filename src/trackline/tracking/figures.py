"""Writing in-memory objects as artifact files: dicts, figures and images.

Each function writes one local file; the client then logs it. matplotlib, plotly, numpy and
Pillow are imported only when an object of theirs is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from trackline.exceptions import InvalidParameterValue, MissingDependency

__all__ = ["dump_dict", "save_figure", "save_image"]

_PLOTLY_IMAGE_FORMATS = (".png", ".jpeg", ".jpg", ".svg", ".pdf", ".webp")


def dump_dict(dictionary: Any, artifact_file: str) -> str:
    """The text of ``dictionary`` as YAML for ``.yaml``/``.yml`` files, else as JSON."""
    extension = os.path.splitext(artifact_file)[1].lower()
    if extension in (".yaml", ".yml"):
        import yaml

        text: str = yaml.safe_dump(dictionary, default_flow_style=False, allow_unicode=True)
        return text
    return json.dumps(dictionary, indent=2)


def save_figure(figure: Any, path: str, save_kwargs: Mapping[str, Any]) -> None:
    """Write a matplotlib figure (``savefig``) or a plotly figure (``.html`` with
    ``write_html``, image formats with ``write_image``) to ``path``."""
    module = type(figure).__module__
    if module.startswith("matplotlib") or hasattr(figure, "savefig"):
        figure.savefig(path, **save_kwargs)
        return
    if module.startswith("plotly") or hasattr(figure, "write_html"):
        extension = os.path.splitext(path)[1].lower()
        if extension == ".html":
            figure.write_html(path, **save_kwargs)
        elif extension in _PLOTLY_IMAGE_FORMATS:
            figure.write_image(path, **save_kwargs)
        else:
            raise InvalidParameterValue(
                f"Cannot save a plotly figure as {extension!r}: use .html or one of "
                f"{', '.join(_PLOTLY_IMAGE_FORMATS)}"
            )
        return
    raise InvalidParameterValue(
        f"Unsupported figure object type {type(figure).__name__}: "
        "log_figure takes matplotlib and plotly figures"
    )


def save_image(image: Any, path: str) -> None:
    """Write a PIL image or a numpy array to ``path`` (format from the extension).

    Arrays are HxW (grayscale), HxWx1, HxWx3 (RGB) or HxWx4 (RGBA); integers must lie in
    0-255 and floats in 0-1 (scaled to 0-255).
    """
    try:
        from PIL import Image
    except ImportError:
        raise MissingDependency("pillow", "plots", "log_image") from None
    if isinstance(image, Image.Image):
        image.save(path)
        return
    if type(image).__module__ != "numpy" or not hasattr(image, "ndim"):
        raise InvalidParameterValue(
            f"Unsupported image object type {type(image).__name__}: "
            "log_image takes numpy arrays and PIL images"
        )
    Image.fromarray(_to_uint8(image)).save(path)


def _to_uint8(array: Any) -> Any:
    import numpy as np

    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InvalidParameterValue(
            f"Invalid image shape {array.shape}: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
        )
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.integer):
        if array.size and (array.min() < 0 or array.max() > 255):
            raise InvalidParameterValue("Integer image values must lie in [0, 255]")
        return array.astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if array.size and not np.isfinite(array).all():
            raise InvalidParameterValue("Float image values must be finite")
        if array.size and (array.min() < 0 or array.max() > 1):
            raise InvalidParameterValue("Float image values must lie in [0, 1]")
        return np.round(array * 255).astype(np.uint8)
    raise InvalidParameterValue(f"Unsupported image dtype {array.dtype}")
