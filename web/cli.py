"""`alur`: the command line. Each command is a few lines over the service layer."""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from engine import bootstrap, services
from engine.config import Settings
from engine.errors import AlurError, Conflict, Forbidden
from engine.runtime import Runtime
from process.loader import DefinitionError, load_file, validate_paths

EXIT_CODES = {Conflict: 3, Forbidden: 4}


def runtime() -> Runtime:
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Runtime(settings)


def friendly(command):
    """Errors become one readable line on stderr and a non-zero exit, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except AlurError as err:
            click.echo(f"error: {err}", err=True)
            for field, message in getattr(err, "errors", {}).items():
                click.echo(f"  {field}: {message}", err=True)
            sys.exit(EXIT_CODES.get(type(err), 1))
        except DefinitionError as err:
            for problem in err.problems:
                click.echo(str(problem), err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except Exception as err:  # the last guard: one line, not a traceback
            if os.environ.get("ALUR_DEBUG"):
                raise
            click.echo(f"error: {type(err).__name__}: {err}", err=True)
            sys.exit(1)
    return wrapper


def emit(value, as_json: bool, text) -> None:
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2))
    else:
        text(value)


@click.group()
def main() -> None:
    """Alur: SOP workflows for government offices."""


@main.command()
@click.option("--demo", is_flag=True, help="Also create the demo Bidang and users.")
@friendly
def init(demo: bool) -> None:
    """Create or upgrade the database and deploy the definitions."""
    rt = runtime()
    for deployed in bootstrap.init(rt, demo=demo):
        state = "deployed" if deployed.created else "unchanged"
        click.echo(f"{deployed.key} v{deployed.version} ({state})")
    if demo:
        click.echo(f"demo users ready; password: {bootstrap.DEMO_PASSWORD}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check definition files without deploying them."""
    problems = validate_paths(paths)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo(f"ok: {len(paths)} file(s)")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "login", default=None)
@friendly
def deploy(path: str, login: str | None) -> None:
    """Deploy one definition file (with its YAML beside it)."""
    deployed = services.deploy(runtime(), load_file(path), login)
    click.echo(f"{deployed.key} v{deployed.version} ({'deployed' if deployed.created else 'unchanged'})")


@main.command()
@click.option("--bidang", required=True)
@click.option("--title", required=True)
@click.option("--definition", "key", default="monev_kegiatan_bidang", show_default=True)
@click.option("--user", "login", default=None)
@click.option("--json", "as_json", is_flag=True)
@friendly
def start(bidang: str, title: str, key: str, login: str | None, as_json: bool) -> None:
    """Start an instance for a Bidang; prints its id."""
    instance_id = services.start(runtime(), key, bidang, title, login)
    emit({"id": instance_id}, as_json, lambda v: click.echo(v["id"]))


@main.command()
@click.option("--user", "login", default=None)
@click.option("--instance", "instance_id", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@friendly
def tasks(login: str | None, instance_id: int | None, as_json: bool) -> None:
    """Open tasks, for one user or everyone."""
    emit(services.tasks(runtime(), login, instance_id), as_json, _print_tasks)


def _print_tasks(rows) -> None:
    for t in rows:
        flag = " TERLAMBAT" if t["overdue"] else ""
        who = t["assignee"] or "-"
        click.echo(f"{t['id']}  #{t['instance_id']} langkah {t['step']:>2} {t['lane']:<13} {t['bidang']:<20} "
                   f"{who:<28} batas {t['due_at']}{flag}  {t['name']}")


@main.command()
@click.argument("task_id")
@click.option("--user", "login", required=True)
@friendly
def claim(task_id: str, login: str) -> None:
    """Claim a task offered to you."""
    services.claim(runtime(), task_id, login)
    click.echo(f"claimed {task_id}")


@main.command()
@click.argument("task_id")
@click.option("--user", "login", required=True)
@friendly
def unclaim(task_id: str, login: str) -> None:
    """Give a claimed task back to the team."""
    services.unclaim(runtime(), task_id, login)
    click.echo(f"unclaimed {task_id}")


@main.command()
@click.argument("task_id")
@click.option("--user", "login", required=True)
@click.option("--data", "data_json", default="{}", help="The step's form data as a JSON object.")
@click.option("--file", "files", multiple=True, metavar="FIELD=PATH", help="Attach a document to a file field.")
@friendly
def complete(task_id: str, login: str, data_json: str, files: tuple[str, ...]) -> None:
    """Complete a claimed task with its form data."""
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as err:
        raise click.UsageError(f"--data is not valid JSON: {err.msg}") from None
    attachments = {}
    for item in files:
        field, sep, path = item.partition("=")
        if not sep or not field or not path:
            raise click.UsageError(f"--file expects FIELD=PATH, got {item!r}")
        attachments[field] = Path(path)
    result = services.complete(runtime(), task_id, login, data, attachments)
    click.echo(f"completed {task_id}; instance {result['instance_id']} is {result['instance_state']}")


@main.command()
@click.argument("instance_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@friendly
def show(instance_id: int, as_json: bool) -> None:
    """An instance: state, current steps and history."""
    emit(services.show(runtime(), instance_id), as_json, _print_instance)


def _print_instance(info) -> None:
    click.echo(f"#{info['id']} {info['title']} ({info['bidang']}) — {info['state']}, "
               f"{info['definition']} v{info['definition_version']}")
    click.echo("Langkah saat ini:")
    for t in info["current_steps"]:
        click.echo(f"  {t['step']:>2}. {t['name']} [{t['lane']}] oleh {t['assignee'] or '-'}, batas {t['due_at']}"
                   + (" TERLAMBAT" if t["overdue"] else ""))
    click.echo("Riwayat:")
    for e in info["history"]:
        step = f" langkah {e['step']}" if e["step"] else ""
        click.echo(f"  {e['at']} {e['kind']}{step} {e['actor'] or ''} {json.dumps(e['data'], ensure_ascii=False) if e['data'] else ''}")
