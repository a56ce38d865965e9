"""The container image: it runs as a non-root user, answers its HEALTHCHECK, takes users and
keys from `podman exec ... masthead`, publishes to a receiver on the host's loopback, and keeps
its posts and keys in the /data volume across a restart."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.deploy import command, publish, seed, wait_healthy
from tests.support.podman import env, podman
from tests.support.receiver import Receiver, free_port


@pytest.fixture
def container(image: str, receiver: Receiver) -> Iterator[tuple[str, str]]:
    """(name, base URL): the image's default command on host networking (so that it reaches
    the receiver on 127.0.0.1), its data in a named volume."""
    port = free_port()
    name = f"masthead-test-{port}"
    podman(
        "run",
        "--detach",
        f"--name={name}",
        "--network=host",
        f"--volume={name}:/data",
        "--stop-timeout=30",
        "--env=MASTHEAD_HOST=127.0.0.1",
        f"--env=MASTHEAD_PORT={port}",
        f"--env=MASTHEAD_FETCH_ALLOW={receiver.allow}",
        "--env=MASTHEAD_FETCH_ONLY_ALLOWED=true",
        image,
    )
    try:
        yield name, f"http://127.0.0.1:{port}"
    finally:
        podman("rm", "--force", "--time=5", name, check=False)
        podman("volume", "rm", "--force", name, check=False)


def test_the_image_publishes_and_keeps_posts_and_keys_across_a_restart(
    container: tuple[str, str], receiver: Receiver, image: str
) -> None:
    name, base_url = container
    wait_healthy(base_url)
    assert podman("exec", name, "id", "-u").strip() != "0"
    assert podman("healthcheck", "run", name, check=False) == ""  # exit 0 is healthy
    config = podman("image", "inspect", "--format={{json .Config.Healthcheck.Test}}", image)
    assert "/healthz" in config

    operator = seed(command(["podman", "exec", name, "masthead"], env()))
    post_id = publish(base_url, operator, receiver, "from the container")
    logs = podman("logs", name)
    assert "Settings UI:" in logs and "masthead users set-password" in logs

    podman("restart", "--time=30", name)
    wait_healthy(base_url)
    status = httpx.get(f"{base_url}/v2/posts/{post_id}", headers=operator.headers)
    assert status.status_code == 200 and status.json()["status"] == "published"
    me = httpx.get(f"{base_url}/v2/users/me", headers=operator.headers)
    assert me.status_code == 200 and me.json()["email"] == operator.caller.email
    publish(base_url, operator, receiver, "after the restart")
