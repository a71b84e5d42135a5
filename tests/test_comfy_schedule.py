"""The Noise Schedule node on the fake ComfyUI: every registered schedule over the MODEL's own sigma table,
its parameters as inputs, BasicScheduler's denoise, one-line refusals; and tiny-autoencoder parts found under
any extension (ComfyUI's ``models/vae_approx``)."""

from pathlib import Path

import pytest
import torch

from latent_upscale.lab.fixtures.tae_random import save_tae_pair
from latent_upscale.neural.catalog import WEIGHT_SETS
from latent_upscale.neural.options import NeuralOptions
from latent_upscale.neural.resolution import Search
from latent_upscale.schedules import build_sigmas, registered_schedules, schedule_ids, sd_sigma_table
from tests.helpers.comfy import fake_comfy


@pytest.fixture
def comfy(tmp_path):
    with fake_comfy(tmp_path) as host:
        yield host


def sigmas(comfy, model=None, **inputs):
    node = comfy.door.NODE_CLASS_MAPPINGS["LatentUpscaleNoiseSchedule"]()
    model = model or comfy.model_for(comfy.latent_formats.SD15())
    values = {"schedule": "karras", "steps": 10, "denoise": 1.0, **inputs}
    return node.get_sigmas(model, **values)[0]


def test_every_schedule_and_each_of_its_parameters_is_an_input_with_its_range(comfy):
    inputs = comfy.door.NODE_CLASS_MAPPINGS["LatentUpscaleNoiseSchedule"].INPUT_TYPES()
    required, optional = inputs["required"], inputs["optional"]
    assert required["schedule"][0] == schedule_ids()
    for schedule in registered_schedules():
        for spec in schedule.params:
            kind, options = optional[f"{schedule.id}_{spec.name}"]
            assert kind == "FLOAT" and (options["min"], options["max"], options["default"]) == (
                spec.minimum,
                spec.maximum,
                spec.default,
            )


@pytest.mark.parametrize("schedule", schedule_ids())
def test_each_schedule_gives_the_librarys_sigmas_over_the_models_table(comfy, schedule):
    out = sigmas(comfy, schedule=schedule)
    expected = build_sigmas(schedule, 10, sd_sigma_table("sd1"), family="sd1")
    assert out.dtype == torch.float32 and out.device.type == "cpu"
    assert torch.allclose(out, expected, rtol=1e-5, atol=1e-6) and out[-1] == 0


def test_a_parameter_reaches_its_schedule_and_only_its_own(comfy):
    default = sigmas(comfy)
    assert not torch.equal(sigmas(comfy, karras_rho=3.0), default)
    assert torch.equal(sigmas(comfy, polyexponential_rho=2.0, beta_alpha=0.3), default)


def test_denoise_keeps_the_last_steps_of_a_longer_walk_as_basic_scheduler(comfy):
    walk = build_sigmas("karras", 20, sd_sigma_table("sd1"))
    assert torch.allclose(sigmas(comfy, denoise=0.5), walk[-11:], rtol=1e-5, atol=1e-6)
    assert sigmas(comfy, denoise=0.0).numel() == 0


def test_align_your_steps_reads_the_family_from_the_model(comfy):
    sdxl = comfy.model_for(comfy.latent_formats.SDXL())
    assert not torch.equal(
        sigmas(comfy, sdxl, schedule="align_your_steps"), sigmas(comfy, schedule="align_your_steps")
    )


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"schedule": "cosine"}, "unknown schedule"),
        ({"karras_rho": 99.0}, "must lie in"),
        ({"steps": 100, "denoise": 0.0001}, "steps"),
    ],
)
def test_a_refused_schedule_request_is_one_line(comfy, inputs, words):
    with pytest.raises(ValueError) as caught:
        sigmas(comfy, **inputs)
    message = str(caught.value)
    assert message.startswith("Latent Upscale: ") and "\n" not in message and words in message, message


def test_a_tiny_autoencoder_part_is_found_under_any_extension_folder_by_folder(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    save_tae_pair(second, "taesd", suffix=".pth")
    save_tae_pair(first, "taesd", suffix=".safetensors")
    search = Search.of(NeuralOptions(models_dir=[first, second], search_extension_models=False))
    decoder = WEIGHT_SETS["taesd"].entries[0]
    assert search.local(decoder) == (first / "taesd_decoder.safetensors", "models folder")
    save_tae_pair(first, "taesd", suffix=".pth")  # the published name wins within a folder
    assert search.local(decoder)[0] == first / "taesd_decoder.pth"
    city96 = WEIGHT_SETS["city96-2.1-sdv1"].entries[0]
    (first / Path(city96.filename).with_suffix(".pth").name).write_bytes(b"x")
    assert search.local(city96) is None  # one-file upscalers keep their exact published names
