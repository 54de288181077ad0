"""Serve the stand-in Hub from the command line (``python -m support.hub_standin ROOT``, from tests/)."""

from __future__ import annotations

from .common import DEFAULT_TOKEN
from .standin import HubStandin


def _main() -> None:  # pragma: no cover - manual use: python -m support.hub_standin ROOT, from tests/
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Serve a local stand-in of the Hub HTTP API.")
    parser.add_argument("root", help="folder where repos are kept")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args()
    with HubStandin(args.root, token=args.token) as hub:
        print(f"HF_ENDPOINT={hub.endpoint} HF_TOKEN={hub.token} HF_HUB_DISABLE_XET=1", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    _main()
