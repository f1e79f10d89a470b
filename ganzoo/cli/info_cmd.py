"""`ganzoo info NAME [--json]`."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table

from ganzoo.cli.output import console, print_json
from ganzoo.errors import UnknownNameError
from ganzoo.options import describe
from ganzoo.plugins import load_plugins
from ganzoo.specs import DatasetSpec, ModelSpec, TaskSpec, resolve


def describe_entry(entry) -> dict:
    spec = entry.spec
    data = {
        k: v for k, v in dataclasses.asdict(spec).items() if k not in ("build", "load", "download", "options", "batch")
    }
    if "kind" in data:  # "kind" names the registry in ganzoo's output; a spec's own kind is its "type"
        data["type"] = data.pop("kind")
    data["provided_by"] = str(entry.provider)
    if isinstance(spec, DatasetSpec):
        data["downloadable"] = spec.download is not None
    if isinstance(spec, TaskSpec):  # what each batch holds, as its schema declares (labels: from the dataset)
        data["batch_keys"] = [key.describe() for key in spec.batch.keys]
    if isinstance(spec, (ModelSpec, DatasetSpec)) and spec.options is not None:
        data["options"] = describe(resolve(spec.options))
    return data


def info_command(
    name: Annotated[str, typer.Argument(help="A model, dataset, loss or metric name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Describe a model, dataset, loss or metric: paper, options with defaults, provider."""
    plugins = load_plugins()
    found = [(kind, registry.entry(name)) for kind, registry in plugins.registries.items() if name in registry]
    if not found:
        every = [n for registry in plugins.registries.values() for n in registry.names()]
        raise UnknownNameError("name", name, every)
    if as_json:
        print_json([{"kind": plugins.registries[kind].kind, **describe_entry(e)} for kind, e in found])
        return
    for kind, entry in found:
        data = describe_entry(entry)
        console.print(f"[bold]{entry.name}[/bold] ({plugins.registries[kind].kind})  {data.pop('summary')}")
        options = data.pop("options", None)
        files = data.pop("files", ())
        labelling = {key: data.pop(key) for key in ("classes", "attributes", "labels") if key in data}
        batch_keys = data.pop("batch_keys", [])
        for key, value in data.items():
            if value not in (None, "", (), []):
                console.print(f"  {key.replace('_', ' ')}: {_text(value)}", highlight=False)
        for described in batch_keys:
            console.print(f"  batch key {described}", highlight=False, markup=False)
        _print_labelling(**labelling)
        for file in files:
            checks = "  ".join(f"{k}: {v}" for k, v in file.items() if k not in ("name", "url"))
            console.print(f"  file: {file['name']}  {file.get('url', '')}  {checks}", highlight=False, soft_wrap=True)
        if options:
            flag = "--set" if isinstance(entry.spec, ModelSpec) else "--data-set"
            table = Table(box=None, header_style="bold", title_justify="left", title=f"options ({flag} KEY=VALUE)")
            for column in ("option", "type", "default", "description"):
                table.add_column(column, overflow="fold")
            for row in options:
                help_text = row["help"] + (f" (one of {', '.join(map(str, row['choices']))})" if row["choices"] else "")
                table.add_row(row["name"], row["type"], repr(row["default"]), help_text)
            console.print(table)


def _print_labelling(classes=(), attributes=(), labels="") -> None:
    """A dataset's class and attribute names, and the batch key each gives."""
    if classes:
        console.print(f"  classes ({len(classes)}, batch key 'label'): {_text(classes)}", highlight=False)
    if attributes:
        console.print(f"  attributes ({len(attributes)}, batch key 'attributes'): {_text(attributes)}", highlight=False)
    if labels:
        console.print(f"  labels: {labels}", highlight=False)


def _text(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def register(app: typer.Typer) -> None:
    app.command("info")(info_command)
