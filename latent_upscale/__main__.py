"""``python -m latent_upscale``."""

import sys

from latent_upscale.cli import main

sys.exit(main())
