"""A booking form sent with a start out of range shows the form again with its field error and
all that was typed, never a generic error page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.appointment.test_citizen_booking import TUESDAY_9, form_for

pytestmark = pytest.mark.usefixtures("clock")


# The first two overflow the calendar once shown in Berlin time; the last is no date at all.
OUT_OF_RANGE = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+05:00", "2026-13-45T09:00"]


@pytest.mark.parametrize("start", OUT_OF_RANGE)
def test_a_start_out_of_range_shows_the_form_with_its_error(client: TestClient, start: str) -> None:
    data = {**form_for(client, TUESDAY_9), "start": start}
    resp = client.post("/termine/buchen", data=data, follow_redirects=False)
    assert resp.status_code == 422, resp.text
    page = resp.text
    assert "Die Angaben zum Termin sind ungültig." in page
    assert 'value="Erika Mustermann"' in page and 'value="erika@example.org"' in page
    assert f'name="start" value="{start}"' in page  # kept as typed, refused again if resent
