"""Account fixtures: the production password hasher, for the test that checks its cost."""

from __future__ import annotations

from servicepoint.account import service as account_service

# tests/conftest.py swaps in a cheap hasher; this keeps the real one for the cost check.
REAL_HASHER = account_service._HASHER
