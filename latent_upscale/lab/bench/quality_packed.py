"""``bench quality``'s packed-FLUX.2 section: every interpolation on a FLUX.2 latent held as Forge Neo
and ComfyUI hold it (the 32-channel VAE latent packed 2×2 into 128 channels at 1/16).

For each photograph and scale, the low-resolution latent (its sides rounded to even, so it packs) is
packed (:func:`~latent_upscale.latent_layouts.pack_2x2`) and enlarged to the packed high-resolution size
two ways: **packed** (the interpolation applied to the 128 packed channels, as the hosts' own latent
upscale does: ComfyUI's "Upscale Latent", Neo's hires fix and img2img ``interpolate``), and **ours**
(``upscale(..., family="flux2")``: unpacked, resized, packed again). Both are unpacked and decoded
with the autoencoder under test and scored against the photograph (PSNR dB, HaarPSI). A ``tae`` row,
where its weights are there, compares the round trip on the packed latent with the one on the raw
latent (they should decode the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from torch import Tensor

from latent_upscale.lab.evaluation.autoencoders import BenchAutoencoder
from latent_upscale.lab.evaluation.photographs import lanczos_image
from latent_upscale.lab.evaluation.protocol import as_array, score_decoded

__all__ = ["packed_flux2_section", "render_packed_markdown"]


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def packed_flux2_section(
    images: Mapping[str, Tensor],
    autoencoder: BenchAutoencoder,
    scales: tuple[float, ...],
    methods: tuple[str, ...] | None = None,
) -> dict[str, Any] | None:
    """The section's results (``rows``: per method and scale, mean PSNR/HaarPSI packed vs ours and
    the gain), or ``None`` when the autoencoder is not FLUX.2's. ``methods``: the ids to measure
    (``None``: every interpolation, and ``tae``)."""
    from latent_upscale import upscale
    from latent_upscale.errors import LatentUpscaleError
    from latent_upscale.latent_layouts import pack_2x2, unpack_2x2
    from latent_upscale.neural.options import NeuralOptions
    from latent_upscale.resize_methods import get_method, registered_methods

    if autoencoder.family != "flux2":
        return None
    wanted = set(methods) if methods else None
    interpolations = [
        method.id
        for method in registered_methods()
        if method.resize is not None and (wanted is None or method.id in wanted)
    ]
    run_tae = autoencoder.models_dir is not None and (wanted is None or "tae" in wanted)
    tae_options = NeuralOptions(models_dir=autoencoder.models_dir) if run_tae else None
    scores: dict[tuple[str, float], dict[str, list[float]]] = {}
    notes: list[str] = []

    def add(method: str, scale: float, key: str, picture: Tensor, reference: np.ndarray) -> None:
        measured = score_decoded(reference, picture)
        entry = scores.setdefault((method, scale), {})
        entry.setdefault(f"psnr_{key}", []).append(measured["psnr"])
        entry.setdefault(f"perceptual_{key}", []).append(measured["perceptual"])

    for image in images.values():
        reference = as_array(image)
        high = (image.shape[2] // 16, image.shape[3] // 16)  # packed latent pixels
        for scale in scales:
            low_size = (_even(2 * high[0] / scale), _even(2 * high[1] / scale))  # unpacked, even
            low_image = lanczos_image(image, (low_size[0] * 8, low_size[1] * 8)).clamp(0.0, 1.0)
            packed = pack_2x2(autoencoder.encode(low_image))
            for method_id in interpolations:
                resize = get_method(method_id).resize
                assert resize is not None
                host = unpack_2x2(resize(packed, high))
                ours = unpack_2x2(upscale(packed, high, method=method_id, family="flux2"))
                add(method_id, scale, "packed", autoencoder.decode(host), reference)
                add(method_id, scale, "ours", autoencoder.decode(ours), reference)
            if tae_options is None or "tae" in notes:
                continue
            try:
                on_packed = upscale(packed, high, method="tae", family="flux2", neural=tae_options)
                raw_size = (2 * high[0], 2 * high[1])
                on_raw = upscale(
                    unpack_2x2(packed), raw_size, method="tae", family="flux2", neural=tae_options
                )
            except LatentUpscaleError as error:
                notes.append("tae")
                notes.append(f"tae skipped: {error.summary}")
                continue
            add("tae", scale, "ours", autoencoder.decode(unpack_2x2(on_packed)), reference)
            add("tae", scale, "raw", autoencoder.decode(on_raw), reference)
    rows = []
    for (method, scale), values in scores.items():
        row: dict[str, Any] = {"method": method, "scale": scale}
        row.update({key: float(np.mean(series)) for key, series in values.items()})
        if "psnr_packed" in row:
            row["gain_db"] = row["psnr_ours"] - row["psnr_packed"]
        rows.append(row)
    return {
        "layout": "FLUX.2 latent packed 2x2: 128 channels at 1/16 (Forge Neo, ComfyUI)",
        "packed": "the interpolation on the packed channels, as the hosts' own latent upscale",
        "ours": "upscale(..., family='flux2'): unpacked, resized, packed again",
        "rows": rows,
        "notes": [note for note in notes if note != "tae"],
    }


def render_packed_markdown(section: dict[str, Any]) -> str:
    """The section as Markdown: one line per method and scale."""
    lines = [
        "",
        "## Packed FLUX.2 latents (as Forge Neo and ComfyUI hold them)",
        "",
        f"{section['layout']}. *Packed*: {section['packed']}; *ours*: {section['ours']}. "
        "Decoded with the same autoencoder; mean over the images.",
        "",
        "| method | scale | PSNR packed (dB) | PSNR ours (dB) | gain (dB) | HaarPSI packed | HaarPSI ours |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in section["rows"]:
        if "psnr_packed" not in row:
            continue
        lines.append(
            f"| {row['method']} | {row['scale']:g}× | {row['psnr_packed']:.2f} | {row['psnr_ours']:.2f} | "
            f"{row['gain_db']:+.2f} | {row['perceptual_packed']:.3f} | {row['perceptual_ours']:.3f} |"
        )
    for row in section["rows"]:
        if row["method"] == "tae":
            lines.append(
                f"\n`tae` at {row['scale']:g}×: {row['psnr_ours']:.2f} dB on the packed latent, "
                f"{row['psnr_raw']:.2f} dB on the raw one."
            )
    lines += [f"\n{note}" for note in section["notes"]]
    return "\n".join(lines) + "\n"
