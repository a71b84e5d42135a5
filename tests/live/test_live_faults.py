"""Against a real WebUI: user errors in ``script_args`` are one line with HTTP 422 and run nothing,
sizes beyond our limit are refused before the host sizes the job, and X/Y/Z cells each carry
their own infotext."""

from __future__ import annotations

import json

import pytest

from latent_upscale.webui.job import JobOptions
from tests.live.conftest import png_base64, script_info_or_skip

pytestmark = pytest.mark.live

N_ARGS = len(JobOptions().ui_values())


def _payload(script_args: list, source: tuple[int, int] = (64, 64), **extra) -> dict:
    payload = {
        "init_images": [png_base64(*source)],
        "prompt": "a red house under a yellow sun",
        "steps": 3,
        "denoising_strength": 0.5,
        "width": 128,
        "height": 128,
        "sampler_name": "Euler",
        "seed": 1234,
        "script_name": "latent upscale",
        "script_args": script_args,
        "send_images": True,
        "save_images": False,
    }
    return payload | extra


@pytest.mark.parametrize(
    ("script_args", "source", "expected"),
    [
        ([{"method": "lanczos"}, "karras"], (64, 64), "nothing after it"),
        ([{"method": "m" * 10_000_000}], (64, 64), "10,000,000 characters"),
        ([{"scale": 0.01}], (64, 64), "smaller than 8 pixels"),
        ([{"scale": 8}], (16400, 16), "beyond the limit"),
        ([{"methd": "lanczos"}], (64, 64), "known: method"),
    ],
    ids=["extra-after-named", "10mb-method", "scale-too-small", "scale-too-large", "unknown-name"],
)
def test_a_script_args_error_is_one_line_with_http_422(webui, script_args, source, expected):
    with pytest.raises(AssertionError) as excinfo:
        webui.post("/sdapi/v1/img2img", _payload(script_args, source))
    message = str(excinfo.value)
    assert "-> HTTP 422" in message and expected in message, message[:500]
    body = json.loads(message.split(": ", 1)[1])
    assert body["detail"].startswith("Latent Upscale: ") and len(body["detail"]) < 1000


def _axis_index(webui, label: str) -> int:
    info = script_info_or_skip(webui)
    xyz = next((s for s in info if s.get("name") == "x/y/z plot" and s.get("is_img2img")), None)
    if xyz is None:
        pytest.skip("this host's script-info does not describe the X/Y/Z plot script")
    return next(a for a in xyz["args"] if a.get("label") == "X type")["choices"].index(label)


def test_xyz_cells_each_carry_their_own_schedule_lines(webui):
    x_type = _axis_index(webui, "Latent upscale schedule")
    values = "exponential, automatic, exponential, automatic"
    #       x_type, x_values, x_dropdown, y..., z..., legend, lone images, sub grids, no fixed seeds,
    #       vary seeds x/y/z, margin, csv mode
    args = [x_type, values, [], 0, "", [], 0, "", [], True, True, False, False, False, False, False, 0, True]
    response = webui.post("/sdapi/v1/img2img", _payload(args, script_name="x/y/z plot"))
    cells = json.loads(response["info"])["infotexts"][-4:]
    ours = ["Latent upscale schedule: exponential" in text for text in cells]
    assert ours == [True, False, True, False], cells
    for automatic in (cells[1], cells[3]):
        assert "Schedule type: Exponential" not in automatic, automatic
        assert "Latent upscale note" not in automatic or automatic.count(";") <= cells[0].count(";")
