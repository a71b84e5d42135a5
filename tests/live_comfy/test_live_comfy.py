"""The node pack on a real ComfyUI: both nodes registered and run through ``/prompt``, ComfyUI's own
validation refusing an out-of-list value, a missing-weights failure as one line, a two-pass hires workflow
with our node between the samplers, and our schedule feeding ``SamplerCustom`` (the example workflow)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

import latent_upscale
from latent_upscale.schedules import schedule_ids

pytestmark = pytest.mark.live_comfy

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "assets" / "comfyui-workflow-api.json"
INTERPOLATIONS = [method for method in latent_upscale.methods() if method not in ("tae", "neural")]


def _seed() -> int:
    return random.randrange(1, 2**31)  # a new prompt every run: ComfyUI serves repeats from its cache


def _taesd_upscale(method: str, family: str = "auto", **extra) -> dict:
    """EmptyImage 64² → TAESD encode → our node (1.5×) → TAESD decode → SaveImage (no checkpoint needed)."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": _seed() % 0xFFFFFF},
        },
        "2": {"class_type": "VAELoader", "inputs": {"vae_name": "taesd"}},
        "3": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 0]}},
        "4": {
            "class_type": "LatentUpscaleAdvanced",
            "inputs": {
                "samples": ["3", 0],
                "upscale_method": method,
                "size_by": "scale_by",
                "scale_by": 1.5,
                "family": family,
                "vae": ["2", 0],
                **extra,
            },
        },
        "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["2", 0]}},
        "6": {
            "class_type": "SaveImage",
            "inputs": {"images": ["5", 0], "filename_prefix": f"lu_live_{method}"},
        },
    }


def _image_sizes(client, url: str, entry: dict) -> list[tuple[int, int]]:
    from PIL import Image

    return [Image.open(io.BytesIO(client.fetch_file(url, item))).size for item in client.output_images(entry)]


def _execution_error(entry: dict) -> dict:
    return next(msg for kind, msg in entry["status"]["messages"] if kind == "execution_error")


def test_both_nodes_offer_every_method_and_every_schedule(client, comfy_url):
    upscale = client.object_info(comfy_url, "LatentUpscaleAdvanced")
    schedule = client.object_info(comfy_url, "LatentUpscaleNoiseSchedule")
    assert upscale["category"] == schedule["category"] == "latent/upscaling"
    assert (
        client.combo_values(comfy_url, "LatentUpscaleAdvanced", "upscale_method") == latent_upscale.methods()
    )
    assert client.combo_values(comfy_url, "LatentUpscaleNoiseSchedule", "schedule") == schedule_ids()
    assert schedule["output"] == ["SIGMAS"] and upscale["output"] == ["LATENT"]


@pytest.mark.parametrize("method", INTERPOLATIONS)
def test_every_interpolation_runs_through_prompt(client, comfy_url, timeout, method):
    entry = client.run_workflow(comfy_url, _taesd_upscale(method), timeout=timeout)
    assert client.entry_error(entry) is None
    assert _image_sizes(client, comfy_url, entry) == [(96, 96)]


def test_tae_runs_with_the_taesd_pair_comfyui_keeps_in_vae_approx(client, comfy_url, timeout):
    entry = client.run_workflow(
        comfy_url, _taesd_upscale("tae", family="sd1", allow_download=False), timeout=timeout
    )
    assert client.entry_error(entry) is None
    assert _image_sizes(client, comfy_url, entry) == [(96, 96)]


def test_an_out_of_list_value_is_refused_at_prompt_with_http_400(client, comfy_url):
    for workflow in (_taesd_upscale("sharpest"), _taesd_upscale("bilinear", family="sd9")):
        with pytest.raises(client.PromptRejected) as caught:
            client.queue_prompt(comfy_url, workflow)
        assert caught.value.status == 400 and "value_not_in_list" in str(caught.value)


def test_missing_neural_weights_fail_as_one_line_naming_comfyuis_folder(client, comfy_url, timeout):
    entry = client.run_workflow(
        comfy_url, _taesd_upscale("neural", family="sd1", allow_download=False), timeout=timeout
    )
    error = _execution_error(entry)
    message = error["exception_message"].strip()
    assert error["node_type"] == "LatentUpscaleAdvanced" and error["exception_type"] == "ValueError"
    assert message.startswith("Latent Upscale: no sd1 weights") and "\n" not in message
    assert "models/latent_upscale_models" in message and ".safetensors" in message


def test_two_pass_hires_with_our_node_between_the_samplers(client, comfy_url, timeout):
    recipe = Path(client.__file__).parent / "workflows" / "sd15_hires_bislerp.json"
    workflow = json.loads(recipe.read_text())
    workflow["5"]["inputs"]["seed"] = _seed()
    # our node in place of the recipe's LatentUpscaleBy; the family (sd1) comes from the MODEL
    workflow["6"] = {
        "class_type": "LatentUpscaleAdvanced",
        "inputs": {"samples": ["5", 0], "upscale_method": "tae", "size_by": "scale_by", "scale_by": 1.5,
                   "model": ["1", 0], "allow_download": False},
    }  # fmt: skip
    workflow["9"]["inputs"]["filename_prefix"] = "lu_live_hires"
    entry = client.run_workflow(comfy_url, workflow, timeout=timeout)
    assert client.entry_error(entry) is None
    assert _image_sizes(client, comfy_url, entry) == [(96, 96)]


def test_the_example_workflow_runs_as_it_is_with_our_schedule_feeding_sampler_custom(
    client, comfy_url, timeout
):
    workflow = json.loads(EXAMPLE.read_text())
    assert workflow["9"]["class_type"] == "SamplerCustom" and workflow["9"]["inputs"]["sigmas"] == ["7", 0]
    assert workflow["7"]["class_type"] == "LatentUpscaleNoiseSchedule"
    workflow["5"]["inputs"]["seed"] = _seed()  # only the seed, so ComfyUI really runs it
    entry = client.run_workflow(comfy_url, workflow, timeout=timeout)
    assert client.entry_error(entry) is None
    assert _image_sizes(client, comfy_url, entry) == [(96, 96)]
