"""Where weights come from: resolution order, preferences, downloads (real huggingface-hub client
against a loopback hub), pinned SHA-256s, and what the CLI/WebUI are told."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from latent_upscale import upscale_detailed
from latent_upscale.errors import WeightsUnavailableError
from latent_upscale.lab.fixtures.random_weights import city96_state_dict, save_safetensors
from latent_upscale.neural import describe, find_local_weights, list_models, unload
from latent_upscale.neural import search as search_module
from latent_upscale.neural.catalog import CITY96_COMMITS
from latent_upscale.neural.resolution import resolve_weights
from tests.helpers.hub_server import LocalHub
from tests.helpers.latents import random_latent
from tests.helpers.neural_env import (
    SESQUI_PATH,
    hub_options,
    options,
    put_city96,
    put_sesqui,
    put_ttl,
    sesqui_bytes,
)
from tests.helpers.neural_pins import pin_files

REPO = Path(__file__).resolve().parents[1]
CITY96_REPO = "city96/SD-Latent-Upscaler"
X2_SD1 = "latent-upscaler-v2.1_SDv1-x2.0.safetensors"
#: city96 v2.1 downloads are pinned to the commit that uploaded them.
REV = CITY96_COMMITS["2.1"]


def serve_city96(
    hub: LocalHub, monkeypatch: pytest.MonkeyPatch, data: bytes, *names: str, rev: str = REV
) -> None:
    """Serve ``data`` as each named city96 file and pin its SHA-256 in the catalog."""
    for name in names or (X2_SD1,):
        hub.add_hub_file(CITY96_REPO, REV, name, data)
    pin_files(monkeypatch.setattr, dict.fromkeys(names or (X2_SD1,), data))


def serve_sesqui(
    hub: LocalHub, monkeypatch: pytest.MonkeyPatch, data: bytes, pinned: bytes | None = None
) -> None:
    """Serve ``data`` as SesquiLSR's SDXL file and pin ``pinned`` (default: ``data``) for it."""
    hub.add_file(SESQUI_PATH + "upscaler_SDXL.safetensors", data)
    pin_files(monkeypatch.setattr, {"upscaler_SDXL.safetensors": pinned or data})


pytestmark = pytest.mark.usefixtures("isolated_neural")  # tests/conftest.py


def city96_bytes(tmp_path: Path, seed: int = 0) -> bytes:
    path = save_safetensors(
        city96_state_dict("2.1", width=8, depth=2, seed=seed), tmp_path / "src" / f"c{seed}.safetensors"
    )
    return path.read_bytes()


# --- resolution order -------------------------------------------------------------------------------


def test_resolution_order_is_explicit_then_named_folders_then_env_then_extension_then_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    named, env, extension = tmp_path / "models", tmp_path / "env-models", tmp_path / "extension-models"
    download_cache = tmp_path / "xdg-cache" / "latent_upscale"
    for folder in (named, env, extension, download_cache):
        put_sesqui(folder)
    monkeypatch.setenv("LATENT_UPSCALE_MODELS", str(env))
    monkeypatch.setattr(search_module, "_EXTENSION_MODELS", extension)
    opts = options(tmp_path, search_extension_models=True)
    explicit = put_sesqui(tmp_path / "elsewhere")
    assert resolve_weights("sdxl", opts, explicit=explicit).sources == {None: "explicit"}
    expected = [(named, "models folder"), (env, "$LATENT_UPSCALE_MODELS"), (extension, "extension models/")]
    expected.append((download_cache, "download cache"))
    for folder, label in expected:
        found = resolve_weights("sdxl", opts)
        assert (found.path.parent, found.sources[None]) == (folder, label)
        found.path.unlink()
    with pytest.raises(WeightsUnavailableError):
        resolve_weights("sdxl", opts)


def test_a_bare_weights_name_is_looked_up_in_the_models_folders(tmp_path: Path):
    path = put_sesqui(tmp_path / "models")
    found = resolve_weights(None, options(tmp_path), explicit="upscaler_SDXL.safetensors")
    assert found.path == path
    with pytest.raises(WeightsUnavailableError, match=r"weights file not found: nothing\.safetensors"):
        resolve_weights(None, options(tmp_path), explicit="nothing.safetensors")


def test_the_preferred_set_wins_when_several_are_present(tmp_path: Path):
    models = tmp_path / "models"
    put_ttl(models)
    put_city96(models, vae="xl")
    assert resolve_weights("sdxl", options(tmp_path)).arch == "city96"
    put_sesqui(models)
    assert resolve_weights("sdxl", options(tmp_path)).label == "SesquiLSR SDXL"


def test_a_present_lower_preference_file_beats_downloading_the_preferred_one(tmp_path: Path, hub: LocalHub):
    hub.add_file(SESQUI_PATH + "upscaler_SDXL.safetensors", sesqui_bytes(tmp_path))
    put_ttl(tmp_path / "models")
    found = resolve_weights("sdxl", hub_options(tmp_path, hub))
    assert found.arch == "ttl" and hub.requests == []


def test_local_city96_factors_are_used_as_they_are_without_downloading_others(tmp_path: Path, hub: LocalHub):
    put_city96(tmp_path / "models", factors=(1.5,))
    hub.add_hub_file(CITY96_REPO, "main", X2_SD1, city96_bytes(tmp_path))
    result = upscale_detailed(
        random_latent(1, 4, 8, 8), scale=2, method="neural", family="sd1", neural=hub_options(tmp_path, hub)
    )
    assert result.weights == "latent-upscaler-v2.1_SDv1-x1.5.safetensors" and hub.requests == []
    assert result.steps[-1] == "area → 16x16"


# --- clear errors -----------------------------------------------------------------------------------


def test_missing_weights_error_names_files_folder_url_places_and_what_to_do(tmp_path: Path):
    with pytest.raises(WeightsUnavailableError) as caught:
        resolve_weights("sd1", options(tmp_path))
    message = str(caught.value)
    assert X2_SD1 in message and "sd15_resizer.pt" in message
    assert f"Put the file in {tmp_path / 'models'}" in message
    assert f"https://huggingface.co/{CITY96_REPO}/resolve/{REV}/{X2_SD1}" in message
    assert "Places tried" in message and str(tmp_path / "hf") in message
    assert "Downloads are off" in message and "HF_ENDPOINT" in message


def test_offline_missing_weights_error_says_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsUnavailableError, match="Offline mode is on"):
        resolve_weights("sdxl", options(tmp_path, allow_download=True, offline=None))


def test_sd1_with_only_sesqui_sdxl_present_names_what_would_serve_it(tmp_path: Path):
    put_sesqui(tmp_path / "models")
    with pytest.raises(
        WeightsUnavailableError, match=r"(?s)'sd1'.*city96 v2\.1 SDv1.*NNLatentUpscale SD 1\.5"
    ):
        upscale_detailed(
            random_latent(1, 4, 8, 8), scale=2, method="neural", family="sd1", neural=options(tmp_path)
        )


def test_sd3_has_no_weights_and_says_why(tmp_path: Path):
    with pytest.raises(WeightsUnavailableError, match=r"no neural weights serve 'sd3'.*16-channel"):
        upscale_detailed(
            random_latent(1, 16, 8, 8), scale=2, method="neural", family="sd3", neural=options(tmp_path)
        )


# --- Hugging Face downloads through the real client ---------------------------------------------------


def test_city96_downloads_through_huggingface_hub_once_then_comes_from_its_cache(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    serve_city96(hub, monkeypatch, city96_bytes(tmp_path))
    opts = hub_options(tmp_path, hub)
    latent = random_latent(1, 4, 8, 8)
    first = upscale_detailed(latent, scale=2, method="neural", family="sd1", neural=opts)
    assert first.extra["neural_source"] == "downloaded" and hub.count("GET", X2_SD1) == 1
    assert list((tmp_path / "hf").rglob(X2_SD1)), "the file should be in the HF cache given"
    unload()
    second = upscale_detailed(latent, scale=2, method="neural", family="sd1", neural=opts)
    assert second.extra["neural_source"] == "HF cache" and hub.count("GET", X2_SD1) == 1
    assert second.latent.equal(first.latent)


def test_offline_mode_is_answered_from_the_hf_cache(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    serve_city96(hub, monkeypatch, city96_bytes(tmp_path))
    latent = random_latent(1, 4, 8, 8)
    upscale_detailed(latent, scale=2, method="neural", family="sd1", neural=hub_options(tmp_path, hub))
    requests_before = len(hub.requests)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = hub_options(tmp_path, hub, offline=None)
    assert offline.is_offline
    result = upscale_detailed(latent, scale=2, method="neural", family="sd1", neural=offline)
    assert result.weights == X2_SD1 and len(hub.requests) == requests_before


def test_offline_and_absent_is_a_clear_error_without_any_request(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    serve_city96(hub, monkeypatch, city96_bytes(tmp_path))
    with pytest.raises(WeightsUnavailableError, match="Offline mode is on"):
        upscale_detailed(
            random_latent(1, 4, 8, 8),
            scale=2,
            method="neural",
            family="sd1",
            neural=hub_options(tmp_path, hub, offline=True),
        )
    assert hub.requests == []


def test_repo_id_and_revision_come_from_the_options(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    hub.add_hub_file("someone/mirror", "v2", X2_SD1, city96_bytes(tmp_path))
    pin_files(monkeypatch.setattr, {X2_SD1: city96_bytes(tmp_path)})
    opts = hub_options(tmp_path, hub, hf_repo_id="someone/mirror", hf_revision="v2")
    result = upscale_detailed(random_latent(1, 4, 8, 8), scale=2, method="neural", family="sd1", neural=opts)
    assert result.weights == X2_SD1
    assert ("GET", f"/someone/mirror/resolve/v2/{X2_SD1}") in hub.requests


def test_only_the_factors_the_target_needs_are_downloaded(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    names = [f"latent-upscaler-v2.1_SDv1-x{factor}.safetensors" for factor in ("1.25", "1.5", "2.0")]
    serve_city96(hub, monkeypatch, city96_bytes(tmp_path), *names)
    result = upscale_detailed(
        random_latent(1, 4, 8, 8), (12, 12), method="neural", family="sd1", neural=hub_options(tmp_path, hub)
    )
    assert result.weights == "latent-upscaler-v2.1_SDv1-x1.5.safetensors"
    assert [path for method, path in hub.requests if method == "GET"] == [
        f"/{CITY96_REPO}/resolve/{REV}/latent-upscaler-v2.1_SDv1-x1.5.safetensors"
    ]


def test_a_file_missing_on_the_hub_is_reported_with_its_url(tmp_path: Path, hub: LocalHub):
    with pytest.raises(WeightsUnavailableError, match=rf"could not download {X2_SD1} from {hub.url}/"):
        resolve_weights("sd1", hub_options(tmp_path, hub), factors_wanted=(2.0,))


def test_hf_endpoint_and_offline_environment_variables_are_honoured(tmp_path: Path, hub: LocalHub):
    data = city96_bytes(tmp_path)
    hub.add_hub_file(CITY96_REPO, REV, X2_SD1, data)
    code = (
        "import sys; from latent_upscale.neural import NeuralOptions; "
        "from latent_upscale.neural.resolution import resolve_weights; "
        "from tests.helpers.neural_pins import pin_files; "
        f"pin_files(setattr, {{{X2_SD1!r}: bytes.fromhex({data.hex()!r})}}); "
        f"opts = NeuralOptions(allow_download=True, hf_cache_dir={str(tmp_path / 'hf')!r}, "
        f"models_dir={str(tmp_path / 'models')!r}, search_extension_models=False, progress=False); "
        "print(resolve_weights('sd1', opts, factors_wanted=(2.0,)).sources)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HF_ENDPOINT": hub.url,
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "downloaded" in done.stdout and hub.count("GET", X2_SD1) == 1
    (tmp_path / "hf").rename(tmp_path / "hf-moved")  # now nothing is cached
    env["HF_HUB_OFFLINE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "Offline mode is on" in done.stderr
    assert hub.count("GET", X2_SD1) == 1


# --- SesquiLSR URL downloads: pinned SHA-256, checked before the file lands ---------------------------


def test_sesquilsr_is_not_downloaded_without_a_pinned_sha256_and_says_how_to_get_it(
    tmp_path: Path, hub: LocalHub
):
    hub.add_file(SESQUI_PATH + "upscaler_Flux.safetensors", sesqui_bytes(tmp_path))
    with pytest.raises(WeightsUnavailableError) as caught:
        resolve_weights("flux", hub_options(tmp_path, hub))
    assert f"upscaler_Flux.safetensors from {hub.url}{SESQUI_PATH}upscaler_Flux.safetensors" in str(
        caught.value
    )
    assert hub.requests == []


def test_sesqui_downloads_into_the_first_models_folder_and_keeps_nothing_else(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    data = sesqui_bytes(tmp_path)
    serve_sesqui(hub, monkeypatch, data)
    opts = hub_options(tmp_path, hub, models_dir=[tmp_path / "first", tmp_path / "second"])
    found = resolve_weights("sdxl", opts)
    assert (
        found.path == tmp_path / "first" / "upscaler_SDXL.safetensors" and found.sources[None] == "downloaded"
    )
    assert found.path.read_bytes() == data
    assert [p.name for p in (tmp_path / "first").iterdir()] == ["upscaler_SDXL.safetensors"]  # no sidecar
    assert resolve_weights("sdxl", opts).sources[None] == "models folder" and hub.count("GET") == 1


def test_a_download_that_is_not_the_pinned_file_leaves_nothing_behind(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    pointer = b"version https://git-lfs.github.com/spec/v1\n"  # what a raw URL gives for an LFS file
    serve_sesqui(hub, monkeypatch, pointer, pinned=sesqui_bytes(tmp_path))
    with pytest.raises(WeightsUnavailableError, match=r"refusing upscaler_SDXL\.safetensors"):
        resolve_weights("sdxl", hub_options(tmp_path, hub))
    assert list((tmp_path / "models").iterdir()) == []


def test_ttl_weights_are_never_downloaded(tmp_path: Path, hub: LocalHub):
    infos = {info.entry.filename: info for info in list_models(hub_options(tmp_path, hub))}
    assert (
        infos["sdxl_resizer.pt"].download_from is None and infos["sd15_resizer.pt"].entry.licence == "GPL-3.0"
    )
    assert "local only" in infos["sdxl_resizer.pt"].summary()


# --- what the CLI and the WebUI are told ------------------------------------------------------------


def test_list_models_says_what_is_present_where_and_where_the_rest_comes_from(tmp_path: Path):
    put_sesqui(tmp_path / "models")
    infos = {info.entry.filename: info for info in list_models(options(tmp_path))}
    sdxl = infos["upscaler_SDXL.safetensors"]
    assert (
        sdxl.local_path == tmp_path / "models" / "upscaler_SDXL.safetensors"
        and sdxl.found_in == "models folder"
    )
    assert sdxl.download_from is None  # no pinned SHA-256 for SesquiLSR: fetched by hand only
    assert sdxl.summary().endswith(
        "; by hand (no pinned SHA-256): "
        "https://github.com/LoganBooker/SesquiLSR/raw/main/models/upscaler_SDXL.safetensors"
    )
    assert infos[X2_SD1].local_path is None
    assert infos[X2_SD1].download_from == f"https://huggingface.co/{CITY96_REPO}/resolve/{REV}/{X2_SD1}"
    assert infos[X2_SD1].families == ("sd1", "sd2")
    (tmp_path / "models" / "my-own.pth").write_bytes(b"x")
    assert [path.name for path, _ in find_local_weights(options(tmp_path))] == [
        "my-own.pth",
        "upscaler_SDXL.safetensors",
    ]
    assert {"upscaler_Flux.safetensors", "upscaler_Wan21.safetensors", "upscaler_Flux2.safetensors"} <= set(
        infos
    )


def test_describe_gives_one_line_for_each_situation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    put_sesqui(tmp_path / "models")
    present = describe("sdxl", options(tmp_path))
    assert (
        str(present) == f"SesquiLSR SDXL ({tmp_path / 'models' / 'upscaler_SDXL.safetensors'})"
        and present.ready
    )
    download = describe("sd1", options(tmp_path, allow_download=True))
    assert str(download) == f"city96 v2.1 SDv1 (will download 2.4 MB per factor from HF {CITY96_REPO})"
    assert download.will_download and not download.ready
    by_hand = describe("flux", options(tmp_path, allow_download=True))
    assert str(by_hand) == (
        "missing: put upscaler_Flux.safetensors in a models folder (fetch it by hand from "
        "https://github.com/LoganBooker/SesquiLSR/raw/main/models/upscaler_Flux.safetensors)"
    )
    assert not by_hand.available
    pin_files(monkeypatch.setattr, {"upscaler_Flux.safetensors": b"pinned"})
    off = describe("flux", options(tmp_path))
    assert str(off) == "missing: SesquiLSR Flux (12.4 MB from github.com; downloads off)"
    assert not off.available
    assert str(describe("sd3", options(tmp_path))) == "unavailable for sd3: no published weights"
    put_city96(tmp_path / "models", factors=(1.5, 2.0))
    assert str(describe("sd1", options(tmp_path))) == f"city96 v2.1 SDv1 (x1.5, x2 in {tmp_path / 'models'})"
