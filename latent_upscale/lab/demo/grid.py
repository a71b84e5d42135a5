"""Drawing and writing the demo's files: the comparison grid (Pillow), text files and the optional
figures other rooms contribute. Every file is written atomically
(:func:`~latent_upscale.latent_io.atomic_write`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from latent_upscale.latent_io import atomic_write

__all__ = ["GridRow", "extra_figures", "save_grid", "write_text"]

log = logging.getLogger(__name__)

#: A row of the grid: its label (may hold a line break) and ``(caption, image)`` tiles, where a
#: caption has up to three lines and an image is ``[3, H, W]`` RGB in [0, 1] (all the same size).
GridRow = tuple[str, list[tuple[str, Tensor]]]

_BACKGROUND = (28, 28, 30)
_TEXT = (235, 235, 235)
_DIM = (170, 170, 175)
_LINE = 15  # caption line height, px


def _font(size: int, bold: bool = False) -> Any:
    """DejaVu Sans from matplotlib's data (it draws "×" and "→"), else Pillow's own font."""
    from PIL import ImageFont

    try:
        import matplotlib

        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)
    except (ImportError, OSError):
        pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return ImageFont.load_default()


def _pixels(image: Tensor) -> Any:
    from PIL import Image

    array = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
    return Image.fromarray(array)


def save_grid(
    path: Path,
    rows: Sequence[GridRow],
    *,
    title: str = "",
    notes: Sequence[str] = (),
    max_columns: int | None = None,
    label_width: int = 150,
) -> Path:
    """Draw ``rows`` of captioned tiles under a title and note lines; write a PNG to ``path``.

    A row longer than ``max_columns`` wraps onto further lines (its label stays on the first).
    Returns ``path``.
    """
    from PIL import Image, ImageDraw

    tile_h, tile_w = rows[0][1][0][1].shape[-2:]
    pad = 6
    caption_lines = max(caption.count("\n") + 1 for _, tiles in rows for caption, _ in tiles)
    header_h = 4 + _LINE * min(caption_lines, 3)
    longest = max(len(tiles) for _, tiles in rows)
    columns = min(longest, max_columns) if max_columns else longest
    lines: list[tuple[str, list[tuple[str, Tensor]]]] = []
    for label, tiles in rows:
        for start in range(0, len(tiles), columns):
            lines.append((label if start == 0 else "", tiles[start : start + columns]))
    title_h = (30 if title else 0) + 17 * len(notes) + (8 if title or notes else 0)
    width = label_width + columns * (tile_w + pad)
    height = title_h + len(lines) * (tile_h + header_h + pad) + pad
    canvas = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font, small = _font(13), _font(12)
    y = pad
    if title:
        draw.text((8, y), title, fill=_TEXT, font=_font(17, bold=True))
        y += 30
    for note in notes:
        draw.text((8, y), note, fill=_DIM, font=small)
        y += 17
    y = title_h
    for label, tiles in lines:
        label_y = y + header_h + max(0, tile_h // 2 - 9 * (label.count("\n") + 1))
        draw.multiline_text((8, label_y), label, fill=_TEXT, font=font, spacing=4)
        for index, (caption, image) in enumerate(tiles):
            x = label_width + index * (tile_w + pad)
            for line_no, line in enumerate(caption.split("\n")[:3]):
                colour = _TEXT if line_no == 0 else _DIM
                draw.text((x + 2, y + 2 + _LINE * line_no), line, fill=colour, font=font)
            canvas.paste(_pixels(image), (x, y + header_h))
        y += tile_h + header_h + pad
    with atomic_write(path) as temporary:
        canvas.save(temporary)
    return path


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    with atomic_write(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def extra_figures(out: Path) -> dict[str, Path]:
    """Figures contributed by other rooms (schedules); each is optional so the demo never fails on them."""
    figures: dict[str, Path] = {}
    try:
        from latent_upscale.lab.demo import schedule_figures
    except ImportError:
        return figures
    try:
        for name, plot, filename in (
            ("schedules", schedule_figures.plot_schedules, "schedules.png"),
            ("fixed_steps", schedule_figures.plot_fixed_steps, "fixed-steps.png"),
        ):
            with atomic_write(out / filename) as temporary:
                plot(temporary)
            figures[name] = out / filename
    except ImportError as error:  # matplotlib missing: say so, keep the rest of the demo
        log.warning("demo: schedule figures skipped (%s); pip install matplotlib", error)
    return figures
