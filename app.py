"""compactbert's live demo: `python app.py` (options: `python app.py --help`), the same as `compactbert demo`.

UI only: the zoo, the comparison and the Blocks live in `compactbert.demo`. With a `zoo.json` next to this file (a
Space made by `compactbert publish`) it loads the published models from the Hub and is ready in seconds; without one
it builds the default zoo offline (minutes, cached), and the page says so meanwhile.
"""

import sys
from pathlib import Path

from compactbert.cli.demo import main

if __name__ == "__main__":
    sys.exit(main(manifest=Path(__file__).with_name("zoo.json")))
