"""`python -m compactbert.cli ...` (what `torchrun` and `accelerate launch -m` run): the same as `compactbert ...`."""

import sys

from .commands import main

sys.exit(main())
