"""`servicepoint seed` and `servicepoint locations ...`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from servicepoint.assistant.cli import embed_catalog
from servicepoint.catalog import locations as location_service
from servicepoint.catalog.datafile import CatalogFileError
from servicepoint.catalog.seed import count_items
from servicepoint.cli_support import city_dir, session_scope
from servicepoint.config import Settings
from servicepoint.errors import ServicePointError
from servicepoint.seeding import seed_city

console = Console()
locations_app = typer.Typer(help="ServicePoint locations.", no_args_is_help=True)


def seed(
    folder: Path | None = typer.Option(None, help="city data folder (default: settings)"),
) -> None:
    """Load the city's catalog and locations, then embed its texts for the assistant; running it
    again updates, never duplicates."""
    settings = Settings()
    folder = folder or city_dir(settings)
    try:
        with Progress(console=console, transient=True) as bar, session_scope(settings) as session:
            task = bar.add_task("Seeding", total=count_items(folder))
            report = seed_city(
                session,
                folder=folder,
                progress=lambda name: bar.update(task, advance=1, description=name),
            )
    except (CatalogFileError, ServicePointError) as exc:
        console.print(f"[red]Seed failed, nothing was changed:[/]\n{exc}")
        raise typer.Exit(2) from exc
    console.print(
        f"[green]Seeded[/] services: {report.services_created} new, {report.services_updated} "
        f"updated, {report.services_removed} removed; locations: {report.locations_total} "
        f"({report.locations_created} new)"
    )
    # After the catalog is committed: the model's minutes of work never hold its transaction.
    embed_catalog(settings, console)


@locations_app.command("import")
def import_file(
    path: Path = typer.Argument(..., exists=True, dir_okay=False),
    source: str = typer.Option(..., help="where the file comes from"),
) -> None:
    """Import the city's official CSV/GeoJSON of locations (all rows or none)."""
    try:
        with session_scope() as session:
            result = location_service.import_locations(
                session,
                text=path.read_text(encoding="utf-8-sig"),
                filename=path.name,
                source=source,
                by="cli",
            )
    except ServicePointError as exc:
        console.print(f"[red]Import rejected, nothing was changed:[/] {exc}")
        raise typer.Exit(2) from exc
    for loc_id, fields in result.items():
        console.print(f"{loc_id}: {', '.join(fields) or 'unchanged'}")
