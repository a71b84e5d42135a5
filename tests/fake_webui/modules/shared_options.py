"""Mirrors modules/shared_options.py: the host's built-in settings (only those the fake reads or tests touch).

Simplified: a subset of the ~300 real options, with the real keys, defaults and sections.
``img2img_fix_steps`` (default False, section img2img; v1.10.1 :220, v1.6.0 :179, Forge :222, reForge :268) is
the one that matters.
"""

from modules.fake_host import FLAVOR
from modules.options import OptionInfo, options_section

options_templates = {}
restricted_opts = {
    "samples_filename_pattern",
    "directories_filename_pattern",
    "outdir_samples",
    "outdir_txt2img_samples",
    "outdir_img2img_samples",
    "outdir_extras_samples",
    "outdir_grids",
    "outdir_txt2img_grids",
    "outdir_save",
    "outdir_init_images",
}


def _section(ident, label, category):
    return (ident, label, category) if FLAVOR.has_category_id else (ident, label)


options_templates.update(
    options_section(
        _section("saving-images", "Saving images/grids", "saving"),
        {
            "samples_save": OptionInfo(True, "Always save all generated images"),
            "samples_format": OptionInfo("png", "File format for images"),
            "grid_save": OptionInfo(True, "Always save all generated image grids"),
            "grid_only_if_multiple": OptionInfo(True, "Do not save grids consisting of one picture"),
            "enable_pnginfo": OptionInfo(
                True, "Save text information about generation parameters as chunks to png files"
            ),
            "save_images_before_highres_fix": OptionInfo(
                False, "Save a copy of image before applying highres fix."
            ),
            "save_init_img": OptionInfo(False, "Save init images when using img2img"),
            "outdir_samples": OptionInfo("", "Output directory for images"),
            "outdir_txt2img_samples": OptionInfo(
                "outputs/txt2img-images", "Output directory for txt2img images"
            ),
            "outdir_img2img_samples": OptionInfo(
                "outputs/img2img-images", "Output directory for img2img images"
            ),
            "outdir_grids": OptionInfo("", "Output directory for grids"),
            "outdir_txt2img_grids": OptionInfo("outputs/txt2img-grids", "Output directory for txt2img grids"),
            "outdir_img2img_grids": OptionInfo("outputs/img2img-grids", "Output directory for img2img grids"),
        },
    )
)

options_templates.update(
    options_section(
        _section("sd", "Stable Diffusion", "sd"),
        {
            "sd_model_checkpoint": OptionInfo(None, "Stable Diffusion checkpoint"),
            "CLIP_stop_at_last_layers": OptionInfo(1, "Clip skip", infotext="Clip skip"),
            "enable_quantization": OptionInfo(False, "Enable quantization in K samplers"),
            "persistent_cond_cache": OptionInfo(True, "Persistent cond cache"),
            "sd_vae_encode_method": OptionInfo("Full", "VAE type for encode", infotext="VAE Encoder"),
            "sd_vae_decode_method": OptionInfo("Full", "VAE type for decode", infotext="VAE Decoder"),
            "token_merging_ratio": OptionInfo(0.0, "Token merging ratio", infotext="Token merging ratio"),
            "token_merging_ratio_img2img": OptionInfo(0.0, "Token merging ratio for img2img"),
            "token_merging_ratio_hr": OptionInfo(0.0, "Token merging ratio for high-res pass"),
            "randn_source": OptionInfo("GPU", "Random number generator source.", infotext="RNG"),
            "sgm_noise_multiplier": OptionInfo(
                False, "SGM noise multiplier", infotext="SGM noise multiplier"
            ),
            "tiling": OptionInfo(False, "Tiling", infotext="Tiling"),
            "disable_weights_auto_swap": OptionInfo(True, "Ignore checkpoint from pasted infotext"),
        },
    )
)

options_templates.update(
    options_section(
        _section("img2img", "img2img", "sd"),
        {
            "inpainting_mask_weight": OptionInfo(1.0, "Inpainting conditioning mask strength"),
            "initial_noise_multiplier": OptionInfo(1.0, "Noise multiplier for img2img"),
            "img2img_extra_noise": OptionInfo(0.0, "Extra noise multiplier for img2img and hires fix"),
            "img2img_color_correction": OptionInfo(False, "Apply color correction to img2img results"),
            "img2img_fix_steps": OptionInfo(
                False, "With img2img, do exactly the amount of steps the slider specifies."
            ).info("normally you'd do less with less denoising"),
            "img2img_background_color": OptionInfo(
                "#ffffff", "With img2img, fill transparent parts with this color."
            ),
            "overlay_inpaint": OptionInfo(True, "Overlay original for inpaint"),
            "return_mask": OptionInfo(False, "For inpainting, include the greyscale mask in results for web"),
            "return_mask_composite": OptionInfo(
                False, "For inpainting, include masked composite in results for web"
            ),
        },
    )
)

options_templates.update(
    options_section(
        _section("sampler-params", "Sampler parameters", "sd"),
        {
            "hide_samplers": OptionInfo([], "Hide samplers in user interface"),
            "eta_ddim": OptionInfo(0.0, "Eta for DDIM", infotext="Eta DDIM"),
            "eta_ancestral": OptionInfo(1.0, "Eta for k-diffusion samplers", infotext="Eta"),
            "s_churn": OptionInfo(0.0, "sigma churn", infotext="Sigma churn"),
            "s_tmin": OptionInfo(0.0, "sigma tmin", infotext="Sigma tmin"),
            "s_tmax": OptionInfo(0.0, "sigma tmax", infotext="Sigma tmax"),
            "s_noise": OptionInfo(1.0, "sigma noise", infotext="Sigma noise"),
            "s_min_uncond": OptionInfo(0.0, "Negative Guidance minimum sigma", infotext="NGMS"),
            "sigma_min": OptionInfo(0.0, "sigma min", infotext="Schedule min sigma"),
            "sigma_max": OptionInfo(0.0, "sigma max", infotext="Schedule max sigma"),
            "rho": OptionInfo(0.0, "rho", infotext="Schedule rho"),
            "eta_noise_seed_delta": OptionInfo(0, "Eta noise seed delta", infotext="ENSD"),
            "always_discard_next_to_last_sigma": OptionInfo(
                False, "Always discard next-to-last sigma", infotext="Discard penultimate sigma"
            ),
            "use_old_karras_scheduler_sigmas": OptionInfo(
                False, "Use old karras scheduler sigmas (0.1 to 10)."
            ),
            "uni_pc_order": OptionInfo(3, "UniPC order"),
        },
    )
)

if not FLAVOR.has_schedulers:
    # shared_options.py v1.6.0 :307 (removed in 1.9 when p.scheduler arrived)
    options_templates["k_sched_type"] = OptionInfo("Automatic", "Scheduler type", infotext="Schedule type")
    options_templates["k_sched_type"].section = ("sampler-params", "Sampler parameters")
else:
    for _key, _default in (("beta_dist_alpha", 0.6), ("beta_dist_beta", 0.6)):
        if FLAVOR.at_least(1, 10):
            options_templates[_key] = OptionInfo(_default, _key)
            options_templates[_key].section = ("sampler-params", "Sampler parameters")

if FLAVOR.is_reforge:
    # reForge shared_options.py :243-257 picks the k-diffusion implementation
    options_templates["sd_sampling"] = OptionInfo("A1111", "SD Sampling Backend for A1111 samplers")
    options_templates["sd_sampling"].section = ("sd_sampling", "SD Sampling backend for A1111 samplers")

options_templates.update(
    options_section(
        _section("ui", "User interface", "ui"),
        {
            "return_grid": OptionInfo(True, "Show grid in gallery"),
            "do_not_show_images": OptionInfo(False, "Do not show any images in gallery"),
            "samplers_in_dropdown": OptionInfo(
                True, "Use dropdown for sampler selection instead of radio group"
            ),
            "add_model_hash_to_info": OptionInfo(True, "Add model hash to infotext"),
            "add_model_name_to_info": OptionInfo(True, "Add model name to infotext"),
            "add_user_name_to_info": OptionInfo(False, "Add user name to infotext when authenticated"),
            "add_version_to_infotext": OptionInfo(True, "Add program version to infotext"),
            "infotext_skip_pasting": OptionInfo([], "Disregard fields from pasted infotext"),
            "infotext_styles": OptionInfo("Apply if any", "Infer styles from prompts of pasted infotext"),
            "enable_console_prompts": OptionInfo(False, "Print prompts to console"),
            "samples_log_stdout": OptionInfo(False, "Always print all generation info to standard output"),
            "enable_reloading_ui_scripts": OptionInfo(False, "Reload Python modules of the UI on Reload UI"),
            "live_previews_enable": OptionInfo(False, "Show live previews of the created image"),
            "show_progress_type": OptionInfo("Approx NN", "Live preview method"),
            "face_restoration": OptionInfo(False, "Restore faces", infotext="Face restoration"),
            "face_restoration_model": OptionInfo("CodeFormer", "Face restoration model"),
        },
    )
)
if FLAVOR.at_least(1, 7):
    options_templates["add_vae_name_to_info"] = OptionInfo(True, "Add VAE name to infotext")
    options_templates["add_vae_hash_to_info"] = OptionInfo(True, "Add VAE hash to infotext")
    for _k in ("add_vae_name_to_info", "add_vae_hash_to_info"):
        options_templates[_k].section = ("ui", "User interface")
