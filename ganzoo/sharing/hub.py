"""``ganzoo push``: a run packaged as a shared model and uploaded to a Hugging Face Hub
repository in one commit (``ganzoo pull`` and ``hf://`` references are in
:mod:`ganzoo.shared_models`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ganzoo.errors import CheckpointError
from ganzoo.shared_models import check_repo_id, describe_hub_error, hub, hub_errors
from ganzoo.sharing.package import package_run


def push(
    run: str | Path,
    repo_id: str,
    private: bool = False,
    with_discriminator: bool = False,
    checkpoint: str | Path | None = None,
    token: str | None = None,
) -> str:
    """Upload ``run`` to ``repo_id`` (created when missing); returns the commit's URL."""
    check_repo_id(repo_id)
    hf = hub()
    with tempfile.TemporaryDirectory(prefix="ganzoo-push-") as staging:
        folder = package_run(
            run, Path(staging) / "model", checkpoint, with_discriminator, name=repo_id.split("/", 1)[1]
        )
        _name_the_repo(folder, repo_id)
        api = hf.HfApi(token=token)
        try:
            api.create_repo(repo_id, private=private, exist_ok=True)
            commit = api.upload_folder(
                repo_id=repo_id, folder_path=str(folder), commit_message=f"ganzoo push of run {Path(run).name}"
            )
        except hub_errors(hf) as exc:
            raise CheckpointError(describe_hub_error(exc, repo_id, None)) from None
    return str(getattr(commit, "commit_url", commit))


def _name_the_repo(folder: Path, repo_id: str) -> None:
    """The card's examples name the repository they are in."""
    card = folder / "README.md"
    card.write_text(card.read_text().replace("hf://OWNER/NAME", f"hf://{repo_id}"))
