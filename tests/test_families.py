"""The family registry is the one source every family list reads."""

from __future__ import annotations

import torch

from latent_upscale.families import FAMILY_IDS, FAMILY_LIST, get_family, vae_group
from latent_upscale.latent_formats import FAMILIES
from latent_upscale.neural.catalog import PREFERENCES, WEIGHT_SETS
from latent_upscale.neural.descriptor import VAE_GROUPS
from latent_upscale.preview import PREVIEW_FAMILIES, latent_to_rgb


def test_every_family_list_is_read_from_the_registry():
    assert tuple(FAMILIES) == FAMILY_IDS == tuple(VAE_GROUPS) == tuple(PREFERENCES)
    assert set(PREVIEW_FAMILIES) == {f.id for f in FAMILY_LIST if f.preview is not None}


def test_each_family_names_only_known_weight_sets_that_fit_its_channels():
    for family in FAMILY_LIST:
        for set_id in family.weights:
            assert set_id in WEIGHT_SETS, (family.id, set_id)


def test_sd2_shares_sd1s_vae_weights_and_preview():
    assert vae_group("sd2") == "sd1" and VAE_GROUPS["sd2"] == "sd1"
    assert PREFERENCES["sd2"] == PREFERENCES["sd1"]
    latent = torch.randn(1, 4, 3, 3)
    assert latent_to_rgb(latent, "sd2").equal(latent_to_rgb(latent, "sd1"))


def test_latent_formats_carry_the_registry_scale_and_shift():
    for family in FAMILY_LIST:
        assert FAMILIES[family.id].scale == family.scale and FAMILIES[family.id].shift == family.shift
    assert get_family("sdxl").latent_channels == 4 and get_family("flux2").latent_channels == 32
