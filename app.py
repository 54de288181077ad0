"""compactbert's live demo: `python app.py` (options: `python app.py --help`), the same as `compactbert demo`.

UI only: the zoo, the comparison and the Blocks live in `compactbert.demo`. The first launch builds the default
zoo offline (a few minutes, cached); later launches reuse it.
"""

import sys

from compactbert.cli.demo import main

if __name__ == "__main__":
    sys.exit(main())
