"""``python -m latent_upscale bench``: what latent upscaling saves, measured against the VAE round trip.

Five rows — every method, neural vs the VAE round trip, our runner vs the plain reference, growth
with size, and the WebUI glue's overhead — written to ``results.json`` (every figure and the
environment), ``results.md`` and ``results.png``. ``diffusers``, ``matplotlib`` and ``tqdm`` are the
``bench`` extra; the extension itself never needs them.
"""

from latent_upscale.lab.bench.plan import ROWS, BenchPlan, Job, full_plan, quick_plan
from latent_upscale.lab.bench.run import BenchOutcome, run_bench

__all__ = ["ROWS", "BenchOutcome", "BenchPlan", "Job", "full_plan", "quick_plan", "run_bench"]
