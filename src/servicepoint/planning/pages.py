"""The planners' home page: what planning staff can do today, and what comes next."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.core.templating import render
from servicepoint.planning import service as planning_service

router = APIRouter(include_in_schema=False)


@router.get("/planung", response_class=HTMLResponse)
def planner_home(request: Request, user: User = Depends(require("planner"))) -> HTMLResponse:
    """The planner's start page: location map, residents per Stadtteil, planning to come."""
    overview = planning_service.demand_overview(request.app.state.settings.city_dir)
    return render(
        request, "planning/home.html", {"districts": overview.districts, "bars": overview.bars}
    )
