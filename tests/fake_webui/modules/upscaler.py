"""Mirrors modules/upscaler.py UpscalerData: the ``shared.sd_upscalers`` entries (only ``.name`` matters)."""


class UpscalerData:
    def __init__(self, name: str, path: str | None = None, upscaler=None, scale: int = 4, model=None):
        self.name = name
        self.data_path = path
        self.local_data_path = path
        self.scaler = upscaler
        self.scale = scale
        self.model = model


def builtin_upscalers() -> list[UpscalerData]:
    """The names a bare real host lists (None, Lanczos, Nearest) plus one model-based upscaler."""
    return [UpscalerData(name) for name in ("None", "Lanczos", "Nearest", "ESRGAN_4x")]
