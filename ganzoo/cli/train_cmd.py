"""`ganzoo train MODEL [options]` and `ganzoo train --resume RUN`.

The options are not written out here: each comes from its declaration in
``ganzoo.training.settings.TrainSettings`` (flag, help, panel, default, choices), so a setting's
flag, its checks, its resume rule and its config.json key cannot drift apart."""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from ganzoo.api import Run
from ganzoo.cli.output import console, err_console
from ganzoo.errors import UsageError
from ganzoo.outputs import shell_command
from ganzoo.plugins import PluginSystem
from ganzoo.training.config_file import merged_settings
from ganzoo.training.declared import Declared, plugins_for_help
from ganzoo.training.settings import BUDGET, RESUMABLE, declared_settings, flag_of


def train_command(ctx: typer.Context, **given: Any) -> None:
    """Train a model; the run (config, checkpoints, samples, logs) goes to OUT/NAME.

    Ctrl-C (or SIGTERM) finishes the current step, saves a checkpoint and tells you how to
    resume; `ganzoo train --resume RUN` continues exactly where the run stopped."""
    from ganzoo.training.loop import resume as resume_run  # lazy: the loop imports torch; building the CLI does not
    from ganzoo.training.loop import train

    # typer may vendor click, so the parameter source is compared by name
    typed = {key for key in ctx.params if getattr(ctx.get_parameter_source(key), "name", None) == "COMMANDLINE"}
    model, resume, config = given.pop("model"), given.pop("resume"), given.pop("config")
    if resume is not None and str(resume) == "auto":  # start OUT/NAME, or resume it if it exists
        values = {
            key: (list(value) if isinstance(value, (list, tuple)) else value)
            for key, value in given.items()
            if key in typed
        }
        settings = merged_settings(model, values, config)
        if settings.name is None:
            raise UsageError(
                "--resume auto needs --name (with --out): it starts OUT/NAME, or resumes it when it holds a run"
            )
        overrides = {key: given[key] for key in RESUMABLE if key in typed}
        run = train(settings, console=err_console, run_view=Run, resume_if_exists=True, overrides=overrides)
    elif resume is not None:
        if config is not None:
            raise UsageError("--resume continues a run with its own config.json; --config starts a new run")
        fixed = sorted(typed - set(RESUMABLE) - {"model", "resume"})
        if fixed:
            raise UsageError(
                f"--resume continues a run as it was configured; {', '.join(map(flag_of, fixed))} "
                "cannot change it (budgets, cadence and --device can)"
            )
        if model is not None:
            raise UsageError("give either MODEL or --resume RUN, not both")
        run = resume_run(
            resume, {key: given[key] for key in RESUMABLE if key in typed}, console=err_console, run_view=Run
        )
    else:  # the flags typed win over the config file, which wins over the defaults
        values = {
            key: (list(value) if isinstance(value, (list, tuple)) else value)
            for key, value in given.items()
            if key in typed
        }
        run = train(merged_settings(model, values, config), console=err_console, run_view=Run)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun rank 0 alone reports
        return
    console.print(f"samples: {run / 'samples'}", highlight=False, soft_wrap=True, markup=False)
    inference = json.loads((run / "config.json").read_text()).get("inference", ["sample"])
    if "translate" in inference:  # commands to paste: quoted, and never wrapped by the terminal width
        follow_up = "translate images: " + shell_command(
            "ganzoo", "translate", run, "--input", "IMAGES", "--out", run / "translated"
        )
    elif "inpaint" in inference:
        follow_up = "inpaint images: " + shell_command(
            "ganzoo",
            "inpaint",
            run,
            "--image",
            "IMAGES",
            "--mask",
            "MASKS",
            "--exemplar",
            "EXEMPLARS",
            "--out",
            run / "inpainted",
        )
    else:
        follow_up = "generate more: " + shell_command("ganzoo", "generate", run, "--n", 64, "--grid", run / "grid.png")
    console.print(follow_up, highlight=False, soft_wrap=True, markup=False)


def _signature(plugins: PluginSystem | None) -> inspect.Signature:
    """MODEL, --resume, then one typer option per declared setting (its help listing what
    ``plugins`` registered, for a choice that plugins provide)."""
    parameters = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        inspect.Parameter(
            "model",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None,
                typer.Argument(help="Model to train (see `ganzoo list models`).", show_default=False, metavar="MODEL"),
            ],
        ),
        inspect.Parameter(
            "resume",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                Path | None,
                typer.Option(
                    help="Continue this run folder from its newest checkpoint; `auto` (with "
                    "MODEL and --name): start OUT/NAME, or continue it if it holds a run "
                    "(for torchrun --max-restarts).",
                    rich_help_panel=BUDGET,
                ),
            ],
        ),
        inspect.Parameter(
            "config",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                Path | None,
                typer.Option(
                    help="Settings from a TOML file, or a run's config.json to repeat it; "
                    "flags given here override it.",
                    rich_help_panel=BUDGET,
                ),
            ],
        ),
    ]
    for declared in declared_settings():
        option = typer.Option(
            declared.flag,
            help=declared.help(plugins),
            rich_help_panel=declared.rules.panel,
            metavar=declared.rules.metavar,
        )
        default = None if declared.repeatable else declared.default  # typer: a repeatable flag defaults to None
        parameters.append(
            inspect.Parameter(
                declared.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=Annotated[_option_type(declared), option],
            )
        )
    return inspect.Signature(parameters)


def _option_type(declared: Declared) -> Any:
    """A repeatable setting -> ``list[str] | None``; one that defaults to None -> ``int | None``..."""
    if declared.repeatable:
        return list[str] | None
    return declared.kind | None if declared.default is None else declared.kind


def register(app: typer.Typer) -> None:
    signature = _signature(plugins_for_help())
    train_command.__signature__ = signature  # type: ignore[attr-defined]
    train_command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    app.command("train")(train_command)
