"""compose.yaml's set: PostgreSQL, an API process without a worker and a separate worker
sharing the queue; a post made through the API is published by the worker. The services run
on host networking, so that they reach the receiver on this machine's loopback, started from
the compose file by tests/support/compose.py (Debian's podman-compose cannot do host
networking: see there). PostgreSQL comes from Debian's packages (tests/packaging/postgres/),
since no registry is reachable here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import compose
from tests.support.deploy import REPO, command, publish, seed, wait_healthy
from tests.support.podman import BASE, env, podman
from tests.support.receiver import Receiver, free_port

POSTGRES_IMAGE = "localhost/masthead-postgres:test"


@pytest.fixture
def stack(image: str, receiver: Receiver) -> Iterator[tuple[str, str]]:
    """(API container, API base URL) of the compose set, removed with its volumes after."""
    podman(
        "build",
        "--network=host",
        f"--build-arg=BASE={BASE}",
        f"--tag={POSTGRES_IMAGE}",
        str(REPO / "tests" / "packaging" / "postgres"),
        timeout=900,
    )
    pg_port, api_port = free_port(), free_port()
    project = f"masthead-test-{api_port}"
    services = compose.load(
        REPO / "compose.yaml",
        {
            "MASTHEAD_IMAGE": image,
            "MASTHEAD_POSTGRES_IMAGE": POSTGRES_IMAGE,
            "MASTHEAD_SECRET_KEY": "compose-test-secret-key-0123456789",
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(pg_port),
        },
    )
    fetch = {"MASTHEAD_FETCH_ALLOW": receiver.allow, "MASTHEAD_FETCH_ONLY_ALLOWED": "true"}
    try:
        compose.up(
            project,
            services,
            {
                "postgres": {"PGPORT": str(pg_port)},
                "api": {"MASTHEAD_HOST": "127.0.0.1", "MASTHEAD_PORT": str(api_port), **fetch},
                "worker": fetch,
            },
        )
        yield compose.container(project, "api"), f"http://127.0.0.1:{api_port}"
    finally:
        compose.down(project, services)


def test_the_compose_set_publishes_through_its_worker(
    stack: tuple[str, str], receiver: Receiver
) -> None:
    api, base_url = stack
    wait_healthy(base_url, timeout=180)  # /readyz: the database answers and a worker is alive
    operator = seed(command(["podman", "exec", api, "masthead"], env()))
    publish(base_url, operator, receiver, "through compose")
