"""Fault injection on the fake WebUI host, by fault kind: sizes beyond our limits reached through
"Upscale by" or Width/Height, factors too small to give a picture, X/Y/Z cells sharing one
infotext dict, oversized and extra ``script_args`` values, API refusals, and a checkpoint dropdown
built outside a ``gr.Blocks``. Every refusal is one line, before the host sizes the job, and no job
runs a size our resize would refuse."""

from __future__ import annotations

import logging

import pytest

from latent_upscale.core import MAX_SIDE
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.webui.guide import check_job_size, scaled_size
from latent_upscale.webui.job import JobOptions
from tests.helpers.glue import TITLE, glue, job_args, start
from tests.helpers.webui import png_image, require_webui_gradio

LIMIT = MAX_SIDE * 8  # image pixels a side
BIG = "m" * 10_000_000  # a 10 MB value


def _img2img(host, args, image=None, **kwargs):
    for key, value in {
        "width": 64,
        "height": 64,
        "resize_mode": 3,
        "denoising_strength": 0.4,
        "steps": 3,
    }.items():
        kwargs.setdefault(key, value)
    return host.img2img(
        image if image is not None else png_image(64, 48), script=TITLE, script_args=args, **kwargs
    )


# --- sizes: every path is bounded before the host sizes the job -------------------------------------------


@pytest.mark.parametrize(
    ("source", "scale"),
    [((20000, 20000), 8), ((16400, 16), 8), ((LIMIT + 1, 8), 1.0001), ((8, 8), float("inf"))],
    ids=["square", "one-long-side", "just-over", "infinite"],
)
def test_scaled_size_refuses_sizes_beyond_our_limit_with_one_line(source, scale):
    with pytest.raises(LatentUpscaleError) as excinfo:
        scaled_size(source, scale)
    message = str(excinfo.value)
    assert "\n" not in message and str(LIMIT) in message and len(message) < 300


@pytest.mark.parametrize("scale", [0.01, 0.001, 1e-300])
def test_scaled_size_refuses_factors_below_one_latent_pixel_and_names_the_smallest(scale):
    with pytest.raises(LatentUpscaleError, match=r"smaller than 8 pixels a side \(at least 0\.0156"):
        scaled_size((512, 512), scale)


def test_the_largest_size_we_serve_is_accepted_and_one_more_latent_pixel_is_not():
    assert check_job_size((LIMIT, LIMIT)) == (LIMIT, LIMIT)
    with pytest.raises(LatentUpscaleError):
        check_job_size((LIMIT + 8, 8))


@pytest.mark.parametrize(
    ("image", "scale", "size"),
    [((16400, 16), 8.0, None), ((64, 48), 0.01, None), ((64, 48), 1.0, (LIMIT + 8, 64))],
    ids=["upscale-by-too-large", "upscale-by-too-small", "width-too-large"],
)
def test_a_job_beyond_our_limits_is_refused_before_the_host_runs_anything(
    fake_webui, webui_flavor, image, scale, size, caplog
):
    caplog.set_level(logging.WARNING)
    host = fake_webui(webui_flavor)
    start(host)
    width, height = size or (64, 64)
    processed = _img2img(
        host, JobOptions("lanczos", scale=scale).ui_values(), png_image(*image), width=width, height=height
    )
    assert host.runs == [] and processed.images == []  # no job ran, at no size
    assert "Latent Upscale" not in "".join(processed.infotexts or [])
    refusals = [r.getMessage() for r in caplog.records if "job refused" in r.getMessage()]
    assert len(refusals) == 1 and "\n" not in refusals[0]
    said = refusals[0].split("job refused: ", 1)[1]
    assert processed.info == said and said in processed.comments  # shown under the gallery
    host.assert_no_errors()  # no "Error running process", no traceback


def test_the_xyz_scale_axis_refuses_a_factor_the_job_cannot_run_before_any_cell(fake_webui):
    host = fake_webui()
    start(host)
    axis = next(o for o in host.xyz_grid.axis_options if o.label == "Latent upscale by")
    p = host.new_img2img(
        png_image(16400, 16), width=64, height=64, resize_mode=3, denoising_strength=0.5, steps=3
    )
    with pytest.raises(LatentUpscaleError, match="beyond the limit"):
        host.xyz_grid.run_axis(p, axis, "1, 8")
    with pytest.raises(LatentUpscaleError, match="smaller than 8 pixels"):
        host.xyz_grid.run_axis(p, axis, "1, 0.0001")
    assert host.runs == []


def test_a_factor_that_slips_past_validation_keeps_width_height_and_says_so(fake_webui, caplog):
    caplog.set_level(logging.WARNING)
    host = fake_webui()
    start(host)
    p = host.new_img2img(
        png_image(16400, 16), width=64, height=64, resize_mode=3, denoising_strength=0.5, steps=3
    )
    p.scripts = host.scripts.scripts_img2img
    p.script_args = host.script_args("img2img")
    glue("state").attach_options(p, JobOptions("lanczos", scale=8))  # no run(), no confirm
    processed = host.process_images(p)
    assert processed.images[0].size == (64, 64)
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Latent upscale fallback"].startswith("Width/Height (Upscale by 8 asks for 131200×128 px")
    host.assert_no_errors()


# --- X/Y/Z: each cell's infotext is its own ----------------------------------------------------------------


def _xyz(host, label, values, **job):
    axis = next(o for o in host.xyz_grid.axis_options if o.label == label)
    p = host.new_img2img(
        png_image(64, 64),
        **({"width": 64, "height": 64, "resize_mode": 3, "denoising_strength": 0.5, "steps": 3} | job),
    )
    p.scripts = host.scripts.scripts_img2img
    p.script_args = host.script_args("img2img")
    glue("state").attach_options(p, JobOptions("lanczos"))
    result = host.xyz_grid.run_axis(p, axis, values)
    return p, [host.parse_infotext(text) for text in result.infotexts]


def test_xyz_cells_never_carry_an_earlier_cells_schedule_or_schedule_type(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    start(host)
    parent, cells = _xyz(host, "Latent upscale schedule", "automatic, exponential, automatic, karras")
    assert [cell.get("Latent upscale schedule") for cell in cells] == [None, "exponential", None, "karras"]
    if "Schedule type" in cells[0]:  # 1.9+, Forge, reForge: the host's own line, ours where ours ran
        assert cells[1]["Schedule type"] == "Exponential"
        assert cells[2]["Schedule type"] == cells[0]["Schedule type"] != "Exponential"
    assert not any(key.startswith("Latent upscale") for key in parent.extra_generation_params)


def test_xyz_cells_never_carry_an_earlier_cells_scale_or_fallback_lines(
    fake_webui, webui_flavor, tmp_path, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    host = fake_webui(webui_flavor)
    start(host)
    host.opts.data["latent_upscale_models_dir"] = str(tmp_path / "models")
    _, cells = _xyz(host, "Latent upscale by", "2, 1, 2")
    assert cells[0]["Latent upscale by"] == "2" and cells[2]["Latent upscale by"] == "2"
    assert "Latent upscale by" not in cells[1]
    _, cells = _xyz(host, "Latent upscale method", "neural, lanczos, neural, neural", width=96, height=96)
    fallbacks = [cell.get("Latent upscale fallback") for cell in cells]
    assert fallbacks[1] is None and fallbacks[0] and fallbacks[2] == fallbacks[0] == fallbacks[3]
    assert fallbacks[0].count(";") == fallbacks[3].count(";")  # nothing piles up cell after cell


# --- script_args: values are bounded when echoed, extra values refused -------------------------------------


@pytest.mark.parametrize(
    "args",
    [[BIG], [{BIG: 1}], [{"method": BIG}], ["lanczos", "automatic", BIG], [{"scale": BIG}]],
    ids=["positional-method", "named-key", "named-method", "positional-bool", "named-scale"],
)
def test_a_10_mb_script_args_value_gives_a_short_message_that_says_its_length(fake_webui, args, caplog):
    caplog.set_level(logging.WARNING)
    host = fake_webui()
    start(host)
    processed = _img2img(host, args)
    assert host.runs == [] and len(processed.info) < 1000
    assert "characters" in processed.info
    assert all(len(record.getMessage()) < 2000 for record in caplog.records)


def test_values_after_named_script_args_are_refused_not_ignored():
    with pytest.raises(LatentUpscaleError, match="nothing after it"):
        glue_free_parse([{"method": "lanczos"}, "karras"])


def glue_free_parse(args):
    return JobOptions.from_script_args(args)


# --- the HTTP API: a user error is one line with a 4xx status ----------------------------------------------


def _api(host, script_args, image=None, **payload):
    body = {
        "init_images": [image or png_image(64, 48)],
        "width": 64,
        "height": 64,
        "denoising_strength": 0.4,
        "steps": 3,
        "script_name": "latent upscale",
        "script_args": script_args,
    }
    return host.api_img2img(body | payload)


@pytest.mark.parametrize(
    ("script_args", "image", "expected"),
    [
        ([{"method": "lanczos"}, "karras"], None, "nothing after it"),
        ([{"method": BIG}], None, "characters"),
        ([{"methd": "lanczos"}], None, "known: method"),
        ([{"scale": 0.01}], None, "smaller than 8 pixels"),
        ([{"scale": 8}], (16400, 16), "beyond the limit"),
        (["lanczos", "automatic", "not a bool"], None, "true or false"),
    ],
    ids=[
        "extra-after-named",
        "10mb-method",
        "unknown-name",
        "scale-too-small",
        "scale-too-large",
        "bad-bool",
    ],
)
def test_api_script_args_errors_are_a_422_with_one_line(
    fake_webui, webui_flavor, script_args, image, expected
):
    require_webui_gradio()
    host = fake_webui(webui_flavor)
    host.start()
    http = host.module("modules.api.api").HTTPException
    with pytest.raises(http) as excinfo:
        _api(host, script_args, png_image(*image) if image else None)
    detail = excinfo.value.detail
    assert excinfo.value.status_code == 422 and expected in detail
    assert detail.startswith("Latent Upscale: ") and "\n" not in detail and len(detail) < 1000
    assert host.runs == []
    host.assert_no_errors()


def test_api_named_script_args_alone_still_work_although_the_next_scripts_shift_into_our_slice(fake_webui):
    require_webui_gradio()
    host = fake_webui()
    host.start()
    response = _api(host, [{"method": "lanczos", "scale": 1.5}])
    assert response["images"][0].size == (96, 72)


# --- the UI: a checkpoint dropdown outside a Blocks context ----------------------------------------------


def test_a_checkpoint_dropdown_built_outside_a_blocks_context_is_passed_over(fake_webui):
    gr = require_webui_gradio()
    host = fake_webui()
    host.start()
    ui = glue("ui")
    with gr.Blocks():
        ui.build_ui()
    outside = gr.Dropdown(choices=["a"], label="Checkpoint", elem_classes=["model_selection"])
    ui.after_component(outside, elem_id="setting_sd_model_checkpoint")  # Forge on every page load


# --- what the UI, the console and the infotext say ----------------------------------------------------------


def test_sizes_in_the_infotext_steps_read_width_by_height_like_the_webui():
    from tests.helpers.host_stub import host_stub

    steps = ["city96 (x2.0.safetensors) → 16x12", "lanczos → 9x13"]
    with host_stub() as host:
        said = host.glue("resize").steps_as_webui(steps)
    assert said == "city96 (x2.0.safetensors) → 12×16; lanczos → 13×9"


def test_the_resize_mode_switch_is_a_warning_once_then_info(fake_webui, caplog, monkeypatch):
    host = fake_webui()
    start(host)
    monkeypatch.setitem(glue("img2img")._said, "resize mode", False)
    caplog.set_level(logging.INFO, logger="latent_upscale")
    for _ in range(3):
        processed = _img2img(host, job_args("lanczos"), resize_mode=0, width=96, height=64)
        assert "resize mode switched" in host.parse_infotext(processed.infotexts[0])["Latent upscale note"]
    levels = [r.levelno for r in caplog.records if "switched to 'Just resize" in r.getMessage()]
    assert levels == [logging.WARNING, logging.INFO, logging.INFO]


def test_the_tiny_autoencoder_fallback_line_names_its_folders_and_why(tmp_path):
    from latent_upscale.neural import catalog
    from latent_upscale.neural.status import unavailable_summary
    from tests.helpers.neural_env import options

    line = unavailable_summary("sd1", catalog.weight_sets_for("sd1", "autoencoder"), options(tmp_path))
    assert line.startswith("no sd1 tiny autoencoder: put taesd_decoder.pth + taesd_encoder.pth in ")
    assert "VAE-taesd" in line and "no pinned SHA-256" in line and "weights" not in line
    assert str(tmp_path) not in line  # a folder name, not a user's path


@pytest.mark.parametrize(("downloadable", "offered"), [(False, False), (True, True)])
def test_the_hint_offers_allow_downloads_only_for_files_that_are_downloaded(
    downloadable, offered, monkeypatch
):
    from types import SimpleNamespace

    from latent_upscale.neural.status import NeuralStatus
    from tests.helpers.host_stub import host_stub

    text = (
        "missing: TAEF2 (2.7 MB from GitHub; downloads off)"
        if downloadable
        else "missing: put a + b in a folder"
    )
    with host_stub(model=SimpleNamespace(latent_channels=4)) as host:
        hint = host.glue("hint")
        monkeypatch.setattr(hint, "read_model_latent_info", lambda model: SimpleNamespace(family="sd1"))
        monkeypatch.setattr(
            "latent_upscale.neural.describe", lambda *a, **k: NeuralStatus("sd1", text, False, False)
        )
        said = hint.describe_neural_for_loaded_model("tae")
    assert ("allow downloads" in said) is offered and "falls back to" in said


def test_a_hires_size_beyond_our_limit_is_refused_before_the_host_resizes(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    start(host)
    with pytest.raises(LatentUpscaleError, match=r"hires fix asks for 131200×8200 px, beyond the limit"):
        host.txt2img(
            width=128,
            height=8,
            steps=2,
            enable_hr=True,
            hr_resize_x=131200,
            hr_upscaler="Latent (lanczos)",
            hr_second_pass_steps=1,
            denoising_strength=0.5,
        )
    assert len(host.runs) == 1  # the first pass only: no hires resize, no second pass


def test_api_hires_size_beyond_our_limit_is_a_422(fake_webui):
    require_webui_gradio()
    host = fake_webui()
    host.start()
    http = host.module("modules.api.api").HTTPException
    payload = {"width": 128, "height": 8, "steps": 2, "enable_hr": True, "hr_resize_x": 131200}
    with pytest.raises(http) as excinfo:
        host.api_txt2img(payload | {"hr_upscaler": "Latent (lanczos)", "denoising_strength": 0.5})
    assert excinfo.value.status_code == 422 and "hires fix asks for" in excinfo.value.detail


def test_live_tests_skip_where_the_hosts_own_script_info_endpoint_fails():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.live.conftest import WebUI, script_info_or_skip

    class Broken(BaseHTTPRequestHandler):  # A1111 1.6.0's /sdapi/v1/script-info
        def do_GET(self) -> None:
            self.send_error(500 if self.path.endswith("script-info") else 404)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        client = WebUI(f"http://127.0.0.1:{server.server_address[1]}", 10)
        with pytest.raises(pytest.skip.Exception, match="script-info fails"):
            script_info_or_skip(client)
        with pytest.raises(AssertionError, match="HTTP 404"):  # other failures still fail
            client.get("/sdapi/v1/options")
    finally:
        server.shutdown()
        server.server_close()
