"""Mirrors the parts of modules/images.py that processing uses: ``resize_image``, ``flatten``, ``fix_image``.

``resize_image(resize_mode, im, width, height, upscaler_name=None)``: 0 = just resize, 1 = crop and resize,
anything else = resize and fill (images.py v1.10.1 :304, which is why mode 3 masks are resized-and-filled).
Simplified: LANCZOS for every resize (the real one runs the named upscaler for big enlargements), the fill
stretches edge colours by a plain resize instead of the real gradient bands.
"""

import contextlib

from PIL import Image, ImageOps


def resize_image(resize_mode, im, width, height, upscaler_name=None):
    if resize_mode == 0:
        return im.resize((width, height), resample=Image.LANCZOS)

    ratio = width / height
    src_ratio = im.width / im.height
    if resize_mode == 1:
        src_w = width if ratio > src_ratio else im.width * height // im.height
        src_h = height if ratio <= src_ratio else im.height * width // im.width
        resized = im.resize((src_w, src_h), resample=Image.LANCZOS)
        res = Image.new("RGB" if im.mode not in ("L", "RGBA") else im.mode, (width, height))
        res.paste(resized, box=(width // 2 - src_w // 2, height // 2 - src_h // 2))
        return res

    src_w = width if ratio < src_ratio else im.width * height // im.height
    src_h = height if ratio >= src_ratio else im.height * width // im.width
    resized = im.resize((src_w, src_h), resample=Image.LANCZOS)
    res = resized.resize((width, height), resample=Image.LANCZOS)  # simplified fill: stretch
    res.paste(resized, box=(width // 2 - src_w // 2, height // 2 - src_h // 2))
    return res


def flatten(img, bgcolor):
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, bgcolor)
        background.paste(img, mask=img)
        img = background
    return img.convert("RGB")


def fix_image(image):
    if image is None:
        return None
    with contextlib.suppress(Exception):
        image = ImageOps.exif_transpose(image)
    return image
