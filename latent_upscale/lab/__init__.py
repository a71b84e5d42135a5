"""The lab: benchmarks, the demo, the evaluation protocol and test fixtures.

Nothing here ships to a WebUI or ComfyUI user's job: the product (every other subpackage of
``latent_upscale``) never imports the lab, at import time or inside a function (a fitness test in
``tests/test_architecture.py`` holds that). The lab uses only the product's public names.

- :mod:`latent_upscale.lab.evaluation`: the photographs, the autoencoder wrapper, the decode protocol
  and the metrics, shared by the demo and the quality bench.
- :mod:`latent_upscale.lab.demo`: ``python -m latent_upscale demo`` and the schedule figures.
- :mod:`latent_upscale.lab.bench`: ``python -m latent_upscale bench`` (speed, memory) and
  ``bench quality`` (real photographs).
- :mod:`latent_upscale.lab.fixtures`: networks with random weights in the real published key layouts,
  for tests, benchmarks and the shared host recipes.
"""
