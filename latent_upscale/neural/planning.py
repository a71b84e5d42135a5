"""Which network passes reach a target size: pure functions of sizes and the scales a network serves.

Shared by the runner (to plan the passes) and weight resolution (to fetch only the fixed-factor files
a target needs), so neither names an architecture's factors.
"""

from __future__ import annotations

import math

from latent_upscale.errors import LatentUpscaleError

__all__ = ["MAX_STEPS", "plan_fixed_factors", "plan_range"]

Size = tuple[int, int]
#: Chained steps of a network never exceed this many passes (tiny latents grow slowly).
MAX_STEPS = 8


def plan_fixed_factors(src: Size, target: Size, factors: tuple[float, ...]) -> list[float]:
    """The factors to chain so the output reaches ``target`` on both axes (then shrink to it).

    Each step takes the smallest available factor whose output (``floor(n × f)``, as the networks
    produce) reaches the target; when none does, the largest (2× for city96) and repeat.
    """
    available = sorted(set(factors))
    if not available:
        raise LatentUpscaleError("no scale factor is available for this fixed-factor network")
    height, width = src
    steps: list[float] = []
    while (height < target[0] or width < target[1]) and len(steps) < MAX_STEPS:
        growing = [f for f in available if math.floor(height * f) > height or math.floor(width * f) > width]
        if not growing:
            break  # a latent of 1-3 pixels cannot grow by 1.25: let the final resample do it
        reaching = [
            f for f in growing if math.floor(height * f) >= target[0] and math.floor(width * f) >= target[1]
        ]
        factor = reaching[0] if reaching else growing[-1]
        steps.append(factor)
        height, width = math.floor(height * factor), math.floor(width * factor)
    return steps


def plan_range(src: Size, target: Size, high: float) -> list[Size]:
    """Sizes to pass to an any-scale network: never below the input, at most ``high``× per step."""
    goal = (max(target[0], src[0]), max(target[1], src[1]))
    sizes: list[Size] = []
    current = src
    while current != goal and len(sizes) < MAX_STEPS:
        current = (min(goal[0], math.floor(current[0] * high)), min(goal[1], math.floor(current[1] * high)))
        sizes.append(current)
    return sizes
