"""The ``ganzoo`` command line: a typer app assembled from one small module per command,
plus whatever commands plugins add through ``register_commands``."""

from __future__ import annotations

import os
import sys

import typer

from ganzoo.cli import bench_cmd, data_cmd, eval_cmd, generate_cmd, translate_cmd, info_cmd, interpolate_cmd, list_cmd, plugins_cmd, runs_cmd, train_cmd
from ganzoo.cli.output import err_console, version_callback
from rich.markup import escape

from ganzoo.errors import GanzooError


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="ganzoo",
        help="A plugin-based zoo of generative adversarial networks.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                     help="Show the version of ganzoo and exit."),
    ) -> None:
        """ganzoo: list, train, generate and evaluate GANs; add architectures with plugins."""

    for module in (list_cmd, plugins_cmd, info_cmd, train_cmd, runs_cmd, generate_cmd, interpolate_cmd, data_cmd, bench_cmd, eval_cmd, translate_cmd):
        module.register(app)
    _add_plugin_commands(app)
    return app


def _add_plugin_commands(app: typer.Typer) -> None:
    from ganzoo.plugins import load_plugins

    try:
        load_plugins().call_for_each("register_commands", app=app)
    except GanzooError as exc:  # strict plugins: report, and let built-in commands still run
        err_console.print(f"[red]Error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None


def main() -> None:
    try:
        build_app()()
    except GanzooError as exc:
        err_console.print(f"[bold red]Error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        if os.environ.get("GANZOO_DEBUG"):
            raise
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        sys.exit(130)
