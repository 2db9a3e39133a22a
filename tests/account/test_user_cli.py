"""`servicepoint user create`: the command that makes the first accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from servicepoint.account import service as account_service
from servicepoint.account.models import User
from servicepoint.cli import app as cli_app
from servicepoint.cli_support import upgrade
from servicepoint.core.db import make_engine
from tests.account.account_support import PASSWORD


# -- `servicepoint user create` -------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'users.db'}"
    upgrade(url)
    return url


def run_cli(url: str, *args: str, password: str | None = PASSWORD) -> tuple[int, str]:
    env = {"SERVICEPOINT_DATABASE_URL": url}
    if password is not None:
        env["SERVICEPOINT_NEW_USER_PASSWORD"] = password
    result = CliRunner().invoke(cli_app, ["user", "create", *args], env=env)
    return result.exit_code, result.output


def cli_users(url: str) -> dict[str, User]:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return {u.username: u for u in s.scalars(select(User))}
    finally:
        engine.dispose()


def test_cli_creates_a_user_who_can_log_in(cli_db: str) -> None:
    code, output = run_cli(cli_db, "Tanja", "--role", "planner")
    assert code == 0, output
    assert "created" in output and "tanja" in output and "planner" in output
    user = cli_users(cli_db)["tanja"]
    assert user.role == "planner"
    assert user.password_hash.startswith("$argon2id$")
    engine = make_engine(cli_db)
    try:
        with Session(engine) as s:
            assert (
                account_service.authenticate(s, username="tanja", password=PASSWORD).id == user.id
            )
    finally:
        engine.dispose()


def test_cli_asks_for_the_password_when_not_in_the_environment(cli_db: str) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["user", "create", "ulf", "--role", "staff"],
        env={"SERVICEPOINT_DATABASE_URL": cli_db, "SERVICEPOINT_NEW_USER_PASSWORD": None},
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    assert "ulf" in cli_users(cli_db)


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["vera", "--role", "root"], PASSWORD, "Unbekannte Rolle"),
        (["vera", "--role", "staff"], "kurz", "mindestens 10 Zeichen"),
        (["v", "--role", "staff"], PASSWORD, "Benutzernamen"),
    ],
)
def test_cli_rejects_invalid_users(
    cli_db: str, args: list[str], password: str, message: str
) -> None:
    code, output = run_cli(cli_db, *args, password=password)
    assert code == 2
    assert message in output
    assert "vera" not in cli_users(cli_db) and "v" not in cli_users(cli_db)


def test_cli_rejects_a_duplicate(cli_db: str) -> None:
    assert run_cli(cli_db, "wanda", "--role", "staff")[0] == 0
    code, output = run_cli(cli_db, "WANDA", "--role", "admin")
    assert code == 2
    assert "gibt es schon" in output
    assert cli_users(cli_db)["wanda"].role == "staff"


def test_cli_needs_a_role(cli_db: str) -> None:
    code, _ = run_cli(cli_db, "xaver")
    assert code != 0
    assert "xaver" not in cli_users(cli_db)


def test_cli_help_lists_the_roles() -> None:
    result = CliRunner().invoke(cli_app, ["user", "create", "--help"])
    assert result.exit_code == 0
    assert "staff|planner|admin" in result.output
