"""`servicepoint ask "..."`: the assistant on the command line; `servicepoint assistant ...`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from servicepoint.assistant import actions, retrieval, service, vectors
from servicepoint.assistant.embedding import EmbeddingError, embedder_for
from servicepoint.cli_support import session_scope
from servicepoint.config import Settings
from servicepoint.core.city import city_facts, elsewhere_topics, elsewhere_words, place_names
from servicepoint.core.db import make_engine, make_sessionmaker

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
            country=city_facts(settings.city_dir).get("country"),
            foreign_offer=(city_facts(settings.city_dir).get("assistant") or {}).get(
                "foreign_documents_offer"
            )
            or (),
            embedder=embedder_for(settings),
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


BLIND_SETS = tuple(
    Path("tests/assistant/blind") / name for name in ("unseen.yaml", "multilingual.yaml")
)


@assistant_app.command("calibrate")
def calibrate_command(
    devset: Path = typer.Option(
        Path("tests/assistant/devset.yaml"),
        exists=True,
        help="labelled questions (only the dev split is used)",
    ),
    extra: list[Path] = typer.Option(
        list(BLIND_SETS), help="more labelled sets; again only their dev split is used"
    ),
) -> None:
    """Fit the confidence, the ranker and thresholds on the dev split (writes assistant/*.json)."""
    from servicepoint.assistant.calibrate import calibrate
    from servicepoint.assistant.evaluation import load

    items = [i for path in (devset, *extra) if path.exists() for i in load(path)[0]]
    settings = Settings()
    with session_scope(settings) as session:
        embedder = embedder_for(settings)
        report = calibrate(
            session,
            items,
            places=place_names(settings.city_dir),
            elsewhere=elsewhere_words(settings.city_dir),
            hybrid=retrieval.hybrid_index(session, embedder) if embedder else None,
        )
    console.print_json(data={k: v for k, v in report.items() if k != "weights"})


def embed_catalog(settings: Settings, out: Console) -> None:
    """Compute the embeddings of every text of the catalog that has none yet (and drop those
    of texts gone from it), with a progress bar; one line when the backend is "none". Each
    batch is committed on its own: a running server is never kept waiting, and Ctrl-C keeps
    what is done."""
    try:
        embedder = embedder_for(settings)
    except EmbeddingError as exc:
        out.print(f"[red]Embeddings not computed:[/] {exc}")
        raise typer.Exit(2) from exc
    if embedder is None:
        out.print("Embeddings skipped: assistant_embedding_backend is 'none' (lexical only).")
        return
    engine = make_engine(settings.database_url)
    try:
        with Progress(console=out, transient=True) as bar, make_sessionmaker(engine)() as session:
            task = bar.add_task(f"Embedding ({embedder.name})", total=None)
            computed = vectors.refresh(
                session,
                embedder,
                lambda done, total: bar.update(task, completed=done, total=total),
                commit=session.commit,
            )
    finally:
        engine.dispose()
    out.print(f"[green]Embeddings[/] ({embedder.name}): {computed} computed, the rest cached")


@assistant_app.command("reindex")
def reindex_command() -> None:
    """Compute the embeddings of new or changed catalog texts now (seed does it too)."""
    embed_catalog(Settings(), console)
