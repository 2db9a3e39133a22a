"""`servicepoint ask "..."`: the assistant on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from servicepoint.assistant import actions, service
from servicepoint.cli_support import session_scope
from servicepoint.config import Settings
from servicepoint.core.city import city_facts, elsewhere_topics, elsewhere_words, place_names

console = Console()


def ask(
    message: str = typer.Argument(..., help="the question"),
    lang: str | None = typer.Option(None, help="de or en (default: detected)"),
    as_json: bool = typer.Option(False, "--json", help="print the API object"),
    conversation: str | None = typer.Option(None, help="conversation id for a follow-up"),
) -> None:
    """Ask the service assistant, exactly as the chat widget and the API do."""
    if not message.strip() or len(message) > 1000:
        console.print("[red]The message must be 1 to 1000 characters.[/]")
        raise typer.Exit(2)
    settings = Settings()
    with session_scope(settings) as session:
        reply = service.ask(
            session,
            message=message,
            conversation_id=conversation,
            lang=lang if lang in ("de", "en") else None,
            base=settings.base_url.rstrip("/"),
            phone=city_facts(settings.city_dir).get("service_phone"),
            rephrase=actions.rephraser(settings),
            places=place_names(settings.city_dir),
            elsewhere=elsewhere_words(settings.city_dir),
            topics=elsewhere_topics(settings.city_dir),
        )
        data = actions.to_response(reply).model_dump()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.print(data["reply"])
    for action in data["actions"]:
        console.print(f"  [bold]{action['type']}[/]: {action['label']} – {action['url']}")
    console.print(
        f"[dim]confidence {data['confidence']:.2f} · conversation {data['conversation_id']}[/]"
    )


assistant_app = typer.Typer(help="Service assistant maintenance.", no_args_is_help=True)


@assistant_app.command("calibrate")
def calibrate_command(
    devset: Path = typer.Option(
        Path("tests/assistant/devset.yaml"),
        exists=True,
        help="labelled questions (only the dev split is used)",
    ),
) -> None:
    """Fit confidence and thresholds on the dev split; writes assistant/calibration.json."""
    from servicepoint.assistant.calibrate import calibrate
    from servicepoint.assistant.evaluation import load

    items, _ = load(devset)
    settings = Settings()
    with session_scope(settings) as session:
        report = calibrate(
            session,
            items,
            places=place_names(settings.city_dir),
            elsewhere=elsewhere_words(settings.city_dir),
        )
    console.print_json(data=report)
