"""Fake ``folder_paths``: ComfyUI's registry of model folders (see README.md)."""

import os

supported_pt_extensions = {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}
base_path = os.environ.get("LATENT_UPSCALE_FAKE_COMFY_BASE") or os.path.dirname(os.path.abspath(__file__))
models_dir = os.path.join(base_path, "models")
folder_names_and_paths = {
    "checkpoints": ([os.path.join(models_dir, "checkpoints")], supported_pt_extensions),
    "vae": ([os.path.join(models_dir, "vae")], supported_pt_extensions),
    "vae_approx": ([os.path.join(models_dir, "vae_approx")], supported_pt_extensions),
}


def add_model_folder_path(folder_name, full_folder_path, is_default=False):
    if folder_name not in folder_names_and_paths:
        folder_names_and_paths[folder_name] = ([full_folder_path], set())
        return
    paths = folder_names_and_paths[folder_name][0]
    if full_folder_path in paths:
        if is_default and paths[0] != full_folder_path:
            paths.remove(full_folder_path)
            paths.insert(0, full_folder_path)
    elif is_default:
        paths.insert(0, full_folder_path)
    else:
        paths.append(full_folder_path)


def get_folder_paths(folder_name):
    return folder_names_and_paths[folder_name][0][:]


def get_filename_list(folder_name):
    folders, extensions = folder_names_and_paths[folder_name]
    names = set()
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        for root, _dirs, files in os.walk(folder, followlinks=True):
            for file in files:
                if not extensions or os.path.splitext(file)[1].lower() in extensions:
                    names.add(os.path.relpath(os.path.join(root, file), folder))
    return sorted(names)


def get_full_path(folder_name, filename):
    if folder_name not in folder_names_and_paths:
        return None
    for folder in folder_names_and_paths[folder_name][0]:
        path = os.path.join(folder, os.path.relpath(os.path.join(os.sep, filename), os.sep))
        if os.path.isfile(path):
            return path
    return None
