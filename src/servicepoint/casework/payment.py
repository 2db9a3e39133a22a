"""Fees through a payment-provider interface: invoice by default, a real e-payment by setting.

`settings.payment_provider` is "invoice" (pay on collection or by invoice: nothing is charged
online) or the dotted path of a factory, `package.module.Name` or `package.module:Name`, called
with the settings and returning a `PaymentProvider` (a class whose __init__ takes `settings`
will do). What `start` returns is stored on the case as `case.payment`; the FIT-Connect export
reads `method`, `state` and `reference` from it.
"""

from __future__ import annotations

import importlib
import secrets
from functools import cache
from typing import Any, Protocol

from servicepoint.casework.models import Application
from servicepoint.config import Settings

_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U


def new_reference() -> str:
    """A payment reference of its own ("SP-" and 10 base32 characters, 50 random bits): the
    case code opens the citizen's status page, so it never goes to a payment provider or onto
    an invoice."""
    return "SP-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))


class PaymentProvider(Protocol):
    """What the workflow asks of a payment provider."""

    def start(self, case: Application, amount_cents: int) -> dict[str, Any]:
        """Begin collecting `amount_cents` for a submitted case; returns the case's payment
        record: at least `provider`, `method`, `state` (open | paid | failed | cancelled),
        `amount_cents` and `reference`; a `url` where the citizen pays, if there is one."""
        ...

    def cancel(self, case: Application) -> dict[str, Any]:
        """The fee is not owed (the case was rejected): the updated payment record."""
        ...


class InvoiceProvider:
    """Pay on collection or by invoice: the fee stays open until the office collects it."""

    name = "invoice"

    def start(self, case: Application, amount_cents: int) -> dict[str, Any]:
        return {
            "provider": self.name,
            "method": "invoice",
            "state": "open",
            "amount_cents": amount_cents,
            "reference": new_reference(),
        }

    def cancel(self, case: Application) -> dict[str, Any]:
        return {**case.payment, "state": "cancelled"}


class ProviderNotFound(ValueError):
    """SERVICEPOINT_PAYMENT_PROVIDER names nothing that can be loaded."""


@cache
def _factory(path: str) -> Any:
    module_name, _, attr = path.replace(":", ".").rpartition(".")
    if not module_name or not attr:
        raise ProviderNotFound(f"payment_provider {path!r}: use 'invoice' or 'package.module.Name'")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ProviderNotFound(f"payment_provider {path!r} cannot be loaded: {exc}") from exc


def provider_for(settings: Settings) -> PaymentProvider:
    """The configured provider (a misspelt dotted path fails loudly, naming the setting)."""
    if settings.payment_provider == "invoice":
        return InvoiceProvider()
    provider: PaymentProvider = _factory(settings.payment_provider)(settings)
    return provider
