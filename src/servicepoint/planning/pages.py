"""The planners' home page: what planning staff can do today, and what comes next."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.core.templating import render
from servicepoint.planning import demand

router = APIRouter(include_in_schema=False)


@router.get("/planung", response_class=HTMLResponse)
def planner_home(request: Request, user: User = Depends(require("planner"))) -> HTMLResponse:
    """The planner's start page: location map, residents per Stadtteil, planning to come."""
    districts = demand.load_districts(request.app.state.settings.city_dir)
    context = {"districts": districts, "bars": demand.share_of_largest(districts)}
    return render(request, "planning/home.html", context)
