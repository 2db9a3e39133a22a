"""The `servicepoint` command; each domain adds its own sub-commands."""

from __future__ import annotations

import typer
import uvicorn
from rich.console import Console

from servicepoint.account.cli import app as user_app
from servicepoint.assistant.cli import ask as ask_command
from servicepoint.assistant.cli import assistant_app
from servicepoint.catalog.cli import locations_app
from servicepoint.catalog.cli import seed as seed_command
from servicepoint.cli_support import upgrade
from servicepoint.config import Settings
from servicepoint.planning.cli import plan_app

app = typer.Typer(help="servicepoint: the city's citizen-service platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
console = Console()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the Alembic migrations."""
    upgrade(Settings().database_url, revision)
    console.print("[green]database is up to date[/]")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the web app (several workers need PostgreSQL; Redis carries shared state)."""
    uvicorn.run(
        "servicepoint.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Forwarded headers are read by the app, from SERVICEPOINT_TRUSTED_PROXIES only:
        # uvicorn's own default trusts loopback, and a local client could then pick any address.
        proxy_headers=False,
        # A video signalling frame is at most 64 KiB (consultation.signalling, which closes
        # 1008 above that); anything much larger is refused before it is buffered.
        ws_max_size=128 * 1024,
        log_level="info",
    )


@app.command()
def worker(once: bool = typer.Option(False, "--once", help="one pass, then exit (cron)")) -> None:
    """Send due e-mails (confirmations, reminders) and delete personal data on schedule."""
    from servicepoint.worker import run_forever, run_pass

    settings = Settings()
    if not once:
        console.print("worker running; Ctrl+C stops it")
        run_forever(settings)
    report = run_pass(settings)  # the duties committed first, then the planning jobs
    console.print(f"[green]done[/] {report}")


app.command("ask")(ask_command)
app.add_typer(db_app, name="db")
app.add_typer(assistant_app, name="assistant")

app.add_typer(user_app, name="user")
app.add_typer(locations_app, name="locations")
app.add_typer(plan_app, name="plan")
app.command("seed")(seed_command)


def main() -> None:
    app()
