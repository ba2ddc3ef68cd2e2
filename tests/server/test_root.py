"""The root URL until the web console is served there."""

from __future__ import annotations

from typing import Any


def test_the_root_leads_to_the_api_docs(client: Any) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/api/v1/docs"
