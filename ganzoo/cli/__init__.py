"""The ``ganzoo`` command line: a typer app assembled from one small module per command,
plus whatever commands plugins add through ``register_commands``."""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import typer
from rich.markup import escape

from ganzoo.cli import (
    bench_cmd,
    data_cmd,
    eval_cmd,
    generate_cmd,
    info_cmd,
    inpaint_cmd,
    interpolate_cmd,
    list_cmd,
    plugins_cmd,
    report_cmd,
    runs_cmd,
    share_cmd,
    train_cmd,
    translate_cmd,
)
from ganzoo.cli.output import err_console, version_callback
from ganzoo.errors import GanzooError, UsageError, first_line
from ganzoo.plugins import load_plugins


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
        version: bool = typer.Option(
            False, "--version", callback=version_callback, is_eager=True, help="Show the version of ganzoo and exit."
        ),
    ) -> None:
        """ganzoo: list, train, generate and evaluate GANs; add architectures with plugins."""

    for module in (
        list_cmd,
        plugins_cmd,
        info_cmd,
        train_cmd,
        runs_cmd,
        report_cmd,
        generate_cmd,
        interpolate_cmd,
        data_cmd,
        bench_cmd,
        eval_cmd,
        translate_cmd,
        inpaint_cmd,
        share_cmd,
    ):
        module.register(app)
    _add_plugin_commands(app)
    return app


def _add_plugin_commands(app: typer.Typer) -> None:
    """Plugins add commands; one that would replace a command another provider already gave
    (a built-in such as `train`, or another plugin's) is dropped with a one-line warning."""
    providers = {_command_name(command): "ganzoo (built-in)" for command in app.registered_commands}
    plugins = load_plugins()

    def keep_new_names(info) -> None:
        kept = app.registered_commands[: len(providers)]
        for command in app.registered_commands[len(providers) :]:
            name = _command_name(command)
            if name in providers:
                err_console.print(
                    f"ganzoo: warning: plugin '{info.name}' tried to register the command '{name}', "
                    f"which {providers[name]} provides; the plugin's is ignored",
                    highlight=False,
                    soft_wrap=True,
                )
                continue
            providers[name] = f"plugin '{info.name}'"
            kept.append(command)
        app.registered_commands[:] = kept

    try:
        plugins.register_commands(app, after_each=keep_new_names)
    except GanzooError as exc:  # strict plugins: report, and let built-in commands still run
        err_console.print(f"[red]Error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None


def _command_name(command) -> str:
    """The name typer gives a registered command: its explicit name, or its function's."""
    return command.name or command.callback.__name__.lower().replace("_", "-")


#: click's base of usage errors: click's own, or the copy of click that newer typer releases carry.
CLICK_ERRORS: tuple[type[Exception], ...] = tuple(
    cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"
)


def main(argv: list[str] | None = None, command: Any = None) -> None:
    """``ganzoo ARGV`` (the process's arguments by default); exits with the command's status.
    ``command``: the click command of :func:`build_app`, built once by a caller that runs many
    command lines in one process (typer builds it in about 60 ms)."""
    try:
        command = command or typer.main.get_command(build_app())
        # not standalone: click's own usage errors come here, to be one line like ganzoo's
        code = command.main(args=argv, prog_name="ganzoo", standalone_mode=False)
    except CLICK_ERRORS as exc:  # an unknown flag, a value click cannot parse, a missing argument
        _click_error(exc)
    except typer.Abort:  # end of input at a prompt
        _fail("aborted", 1)
    except GanzooError as exc:
        # under torchrun a usage error is found alike by every process: rank 0 alone says it
        quiet = isinstance(exc, UsageError) and int(os.environ.get("RANK", "0")) != 0
        _fail("" if quiet else str(exc), exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        sys.exit(130)
    except OSError as exc:  # the disk, the file system, permissions: say which path and what to do
        _fail(describe_os_error(exc), 1)
    except (MemoryError, RuntimeError) as exc:  # e.g. options so large that tensors cannot be allocated
        first = first_line(exc)
        _fail(f"{type(exc).__name__}: {first} (GANZOO_DEBUG=1 shows where)", 1)
    else:
        if isinstance(code, int) and code:  # click's exit status (an interrupt is 130); commands return None
            sys.exit(code)


def _click_error(exc: Any) -> None:  # (Any: click's exception class is known only at run time)
    if type(exc).__name__ == "NoArgsIsHelpError":  # `ganzoo` alone: the help is printed already
        sys.exit(exc.exit_code)
    context = getattr(exc, "ctx", None)
    hint = f" (see '{context.command_path} -h')" if context is not None else ""
    _fail(exc.format_message() + hint, exc.exit_code)


def _fail(message: str, code: int) -> None:
    if message:
        err_console.print(f"[bold red]Error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True)
    if os.environ.get("GANZOO_DEBUG"):
        raise
    sys.exit(code)


#: What to do about the OS errors a user can cause or fix.
OS_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space (finished checkpoints are kept) and run again",
    errno.EDQUOT: "the disk quota is exceeded: free some space and run again",
    errno.EACCES: "permission denied: choose a folder you can write to",
    errno.EPERM: "operation not permitted: choose a folder you can write to",
    errno.EROFS: "the file system is read-only: choose another folder",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.EISDIR: "this path is a folder where a file was expected",
    errno.ENAMETOOLONG: "the file name is too long: choose a shorter --name or --out",
    errno.ENOENT: "no such file or folder",
}


def describe_os_error(exc: OSError) -> str:
    """One line: the path, what went wrong and what to do."""
    path = exc.filename if exc.filename is not None else ""
    fallback = exc.strerror or str(exc)
    advice = OS_ADVICE.get(exc.errno, fallback) if exc.errno is not None else fallback
    return f"cannot use '{path}': {advice}" if path else f"{advice} ({exc})"
