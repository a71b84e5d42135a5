"""Fake ``comfy.model_management``: the compute device (the CPU, as ComfyUI with ``--cpu``)."""

import torch


def get_torch_device():
    return torch.device("cpu")
