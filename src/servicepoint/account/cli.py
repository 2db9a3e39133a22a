"""`servicepoint user ...`: manage staff accounts."""

from __future__ import annotations

import typer
from rich.console import Console

from servicepoint.account import service
from servicepoint.account.models import ROLES
from servicepoint.cli_support import session_scope
from servicepoint.errors import ServicePointError

app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
console = Console()


@app.command("create")
def create(
    username: str = typer.Argument(..., help="login name"),
    role: str = typer.Option(..., "--role", help="|".join(ROLES)),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="SERVICEPOINT_NEW_USER_PASSWORD",
    ),
) -> None:
    """Create a staff account (the password is asked for, or read from the environment)."""
    try:
        with session_scope() as session:
            user = service.create_user(session, username=username, password=password, role=role)
            console.print(f"[green]created[/] {user.username} ({user.role})")
    except ServicePointError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
