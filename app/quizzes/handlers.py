"""Quiz submission through the API: the handler its route and the fast dispatch (`app/dispatch.py`) both call.

It runs `submission.submit` where it costs least (`app/progress/runner.py`), like the lesson requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from app.accounts.signedin import portal_claims
from app.progress import runner
from app.progress.handlers import bearer_token
from app.quizzes import submission
from app.quizzes.schemas import SubmitResult
from app.tenancy.deps import request_portal


async def submit_api(request: Request, attempt_id: int, answers: Mapping[str, Any]) -> Response:
    """`POST /api/v1/attempts/{id}/submit`: graded once; submitting again answers the stored result."""
    tenant, national_id = await request_portal(request)
    settings = request.app.state.settings
    claims = portal_claims(bearer_token(request), tenant.id, settings)
    grace = dt.timedelta(seconds=settings.quiz_grace_seconds)
    result = await runner.run(
        request, tenant, national_id, submission.submit, claims, attempt_id, answers, grace=grace
    )
    body = SubmitResult(
        score=result.score,
        max_score=result.max_score,
        percent=result.percent,
        passed=result.passed,
        certificate_code=result.certificate_code,
    )
    return JSONResponse(body.model_dump(mode="json"))
