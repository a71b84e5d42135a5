"""Fake ``k_diffusion`` (the real host puts repositories/k-diffusion on sys.path): sigma tables and samplers.

Only what the WebUI's samplers touch: ``external`` (DiscreteSchedule and its CompVis wrappers, Forge's
ForgeScheduleLinker) and ``sampling`` (schedule builders and sampler loops). Written from the published
formulas; the sampler loops are all one deterministic Euler walk (see sampling.py).
"""

from k_diffusion import external, sampling  # noqa: F401
