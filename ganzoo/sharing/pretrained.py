"""Making the pretrained models shipped in ``ganzoo/pretrained/`` (maintainers only):

    python -m ganzoo.sharing.pretrained NAME RUN

packages RUN (trained and evaluated with ``ganzoo eval`` first; docs/sharing.md lists the
commands of each shipped model) as ``ganzoo/pretrained/NAME`` in float16, the same format
``ganzoo push`` uploads. ``pretrained:NAME`` then works wherever a run goes."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from ganzoo.shared_models import PRETRAINED
from ganzoo.sharing.package import package_run

SIZE_LIMIT = 2_000_000  # bytes of weights: the package stays small


def make_pretrained(name: str, run: Path) -> Path:
    target = PRETRAINED / name
    shutil.rmtree(target, ignore_errors=True)
    folder = package_run(run, target, half=True, name=f"ganzoo pretrained:{name}")
    card = folder / "README.md"
    card.write_text(card.read_text().replace("hf://OWNER/NAME", f"pretrained:{name}"))
    size = (folder / "model.safetensors").stat().st_size
    if size > SIZE_LIMIT:
        shutil.rmtree(folder)
        raise SystemExit(f"{name}: {size:,} bytes of weights, over the {SIZE_LIMIT:,} a shipped model may have")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name")
    parser.add_argument("run", type=Path)
    args = parser.parse_args()
    folder = make_pretrained(args.name, args.run)
    print(f"{folder}: {(folder / 'model.safetensors').stat().st_size:,} bytes of weights")


if __name__ == "__main__":
    main()
