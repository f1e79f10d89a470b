"""Models shared as a folder: the format ``ganzoo push`` uploads, ``ganzoo pull`` downloads and
the pretrained models ship in, and the references that name one where a run folder goes:

- ``hf://OWNER/NAME[@REVISION]``: a repository on the Hugging Face Hub (downloaded into the Hub
  cache on first use; ``pip install 'ganzoo[hub]'``);
- ``pretrained:NAME``: a model shipped inside the ganzoo package (``ganzoo list pretrained``);
- any other text: a folder (a run, or a shared model's folder).

A shared model's folder holds ``config.json`` (``"format": "ganzoo-model/1"``, the model, its
plugin and options, the data it was trained on, and the SHA-256 of its weights),
``model.safetensors`` (the inference networks only, in the checkpoint format, each tensor
digest-checked on load; never a pickle), ``ganzoo.toml`` (the run's settings), ``metrics.json``,
``samples.png`` and ``README.md`` (the model card)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ganzoo.data.download import file_digest
from ganzoo.errors import CheckpointError, UnknownNameError, UsageError, first_line
from ganzoo.training.checkpoint import load_checkpoint

FORMAT = "ganzoo-model/1"
WEIGHTS = "model.safetensors"
HUB_PREFIX = "hf://"
PRETRAINED_PREFIX = "pretrained:"
#: Where the pretrained models live inside the package.
PRETRAINED = Path(__file__).parent / "pretrained"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def resolve_reference(text: str | os.PathLike) -> Path:
    """The local folder a model reference names (see the module's docstring)."""
    text = os.fspath(text)
    if text.startswith(PRETRAINED_PREFIX):
        return pretrained_folder(text.removeprefix(PRETRAINED_PREFIX))
    if text.startswith(HUB_PREFIX):
        repo_id, _, revision = text.removeprefix(HUB_PREFIX).partition("@")
        return pull(repo_id, revision or None)
    return Path(text)


def pretrained_names() -> list[str]:
    if not PRETRAINED.is_dir():
        return []
    return sorted(p.name for p in PRETRAINED.iterdir() if (p / "config.json").is_file())


def pretrained_folder(name: str) -> Path:
    if name not in pretrained_names():
        raise UnknownNameError("pretrained model", name, pretrained_names())
    return PRETRAINED / name


def is_shared_model(config: dict) -> bool:
    return config.get("format") == FORMAT


def check_repo_id(repo_id: str) -> str:
    if not _REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise UsageError(f"'{repo_id}' is not a Hub repository id: use OWNER/NAME")
    return repo_id


def hub():
    """huggingface_hub, or a one-line error saying how to install it."""
    try:
        import huggingface_hub  # lazy: an optional extra, only the Hub's commands need it
        from huggingface_hub.utils import disable_progress_bars
    except ImportError:
        raise UsageError("the Hugging Face Hub needs huggingface_hub: pip install 'ganzoo[hub]'") from None
    disable_progress_bars()  # a few small files: a bar per file would be noise around ganzoo's one line
    return huggingface_hub


def hub_errors(hf) -> tuple[type[BaseException], ...]:
    """What the Hub's client raises for a network, server or missing-file problem (its HTTP
    errors are OSErrors; a refused connection may come as the HTTP library's own error)."""
    kinds: list[type[BaseException]] = [OSError, hf.errors.HfHubHTTPError]
    for module_name in ("httpx2", "httpx", "requests"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        error = getattr(module, "HTTPError", None) or getattr(
            getattr(module, "exceptions", None), "RequestException", None
        )
        if isinstance(error, type):
            kinds.append(error)
    return tuple(kinds)


def describe_hub_error(exc: BaseException, repo_id: str, revision: str | None) -> str:
    """One line for what went wrong talking to the Hub."""
    hf = hub()
    where = f"'{repo_id}'" + (f" at revision '{revision}'" if revision else "")
    if isinstance(exc, (hf.errors.LocalEntryNotFoundError, ConnectionError)):  # (checked first: a kind of the next)
        return f"cannot reach the Hub for {where}, and it is not in the cache: check the network (or HF_ENDPOINT)"
    if isinstance(exc, hf.errors.RepositoryNotFoundError):
        return f"no repository {where} on the Hub (or it is private: log in with `hf auth login`)"
    if isinstance(exc, hf.errors.RevisionNotFoundError):
        return f"the repository '{repo_id}' has no revision '{revision}'"
    if isinstance(exc, hf.errors.EntryNotFoundError):
        return f"{where} holds no ganzoo model (no {exc.args[0] if exc.args else 'file'})"
    first = first_line(exc)
    return f"the Hub refused or failed for {where}: {first}"


def pull(repo_id: str, revision: str | None = None) -> Path:
    """The repository's files in the Hub cache (downloaded when not there): its folder. Only the
    files of the format are fetched; a repository without a ganzoo config.json is refused."""
    check_repo_id(repo_id)
    hf = hub()
    try:
        folder = Path(
            hf.snapshot_download(
                repo_id,
                revision=revision,
                allow_patterns=["config.json", WEIGHTS, "ganzoo.toml", "metrics.json", "samples.png", "README.md"],
            )
        )
    except hub_errors(hf) as exc:
        raise CheckpointError(describe_hub_error(exc, repo_id, revision)) from None
    config = folder / "config.json"
    if not config.is_file() or not (folder / WEIGHTS).is_file():
        raise CheckpointError(f"the Hub repository '{repo_id}' holds no ganzoo model (no config.json and {WEIGHTS})")
    return folder


def describe_plugin(config: dict) -> str:
    """'plugin stylegan (pip install ganzoo-stylegan>=0.1.0)', from a shared model's config."""
    given = config.get("plugin")
    plugin: dict = given if isinstance(given, dict) else {}
    name, package, version = plugin.get("name", "?"), plugin.get("package"), plugin.get("version")
    install = f"pip install '{package}>={version}'" if package and version else "install the plugin that provides it"
    return f"plugin '{name}' (model '{config.get('model', '?')}'): {install}"


def load_shared_weights(folder: Path, config: dict):
    """The tensors of a shared model's weights, checked against the SHA-256 its config.json
    records (and each tensor against the file's own digests): a changed file is refused."""
    path = folder / WEIGHTS
    if not path.is_file():
        raise CheckpointError(f"'{folder}' lacks {WEIGHTS}")
    recorded = config.get("weights", {}).get("sha256") if isinstance(config.get("weights"), dict) else None
    if not isinstance(recorded, str):
        raise CheckpointError(f"'{folder / 'config.json'}' records no SHA-256 of {WEIGHTS}: not a ganzoo model")
    actual = file_digest(path)
    if actual != recorded:
        raise CheckpointError(
            f"'{path}' does not match its config.json (SHA-256 {actual[:12]}..., config.json says "
            f"{recorded[:12]}...): the file was changed or damaged; pull it again"
        )
    state, _ = load_checkpoint(path)
    weights = state.get("model")
    if not isinstance(weights, dict) or not weights:
        raise CheckpointError(f"'{path}' holds no model weights")
    return {key: value.float() if value.is_floating_point() else value for key, value in weights.items()}
