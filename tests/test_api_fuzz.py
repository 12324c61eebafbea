"""Schemathesis against /openapi.json, in-process through the ASGI app: no input makes the API answer 5xx.

Bounded (MAX_EXAMPLES per operation, derandomized) so the suite stays fast and repeatable; signed in as
Hải Phòng's admin on its host, so generated requests reach the service code rather than stopping at sign-in.
Schemathesis's own pytest plugin (`from_fixture`) does not run under pytest 9, so the operations are walked
here with Hypothesis directly.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests import factories

MAX_EXAMPLES = 12


def test_api_never_answers_a_server_error(app: Any, world: factories.World, make_client: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    signer = make_client("haiphong")
    failures: list[str] = []
    # Sign-in and sign-out last: fuzzing them throttles the address and revokes tokens.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: (op.path.startswith("/api/v1/auth/"), op.path, op.method),
    )
    statuses: dict[int, int] = {}
    current: dict[str, dict[str, str]] = {}
    for operation in operations:
        # A fresh token per operation: a generated request may sign the admin out or change their roles.
        token = signer.login_api("admin")
        current["headers"] = {"Host": "haiphong.localhost", "Authorization": f"Bearer {token}"}

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=current["headers"])
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} → {response.status_code}: "
                    f"query={case.query} body={case.body!r} {response.text[:300]}"
                )

        run()
    assert len(operations) > 25, "schemathesis found too few operations in /openapi.json"
    signed_in = sum(n for status, n in statuses.items() if status != 401)
    assert signed_in > len(operations) * 5, f"most generated requests were not signed in: {statuses}"
    assert not failures, "\n".join(sorted(set(failures)))
