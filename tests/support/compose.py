"""compose.yaml's services run with podman directly, on host networking.

Debian's podman-compose (1.0.3) cannot run a service on the host's network: it always adds the
project network (`--net <project>_default --network-alias <service>`), which podman refuses
beside `--network host` ("cannot set multiple networks without bridge network mode"). The
tests need host networking so that the containers reach a receiver on this machine's
loopback. So this reads the same compose.yaml (its interpolation, images, commands,
environment, volumes, dependencies and health checks) and runs each service with
`podman run`, in dependency order, waiting for a dependency's health check to pass first.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.podman import podman, succeeds

VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: Any, environ: Mapping[str, str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, through lists and maps."""
    if isinstance(value, dict):
        return {k: interpolate(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, environ) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"] or ""
        found = environ.get(name)
        if found or (found == "" and not op.startswith(":")):
            return found
        if op.endswith("?"):
            raise ValueError(f"{name}: {arg}")
        return arg

    return VARIABLE.sub(substitute, value)


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    image: str
    command: list[str]
    environment: dict[str, str]
    volumes: list[str]
    depends_on: list[str]
    healthy_when: list[str] | None
    """The health check's command, when it has one (and it is not disabled)."""


def load(path: Path, environ: Mapping[str, str]) -> dict[str, Service]:
    spec = interpolate(yaml.safe_load(path.read_text()), environ)
    services: dict[str, Service] = {}
    for name, body in spec["services"].items():
        check = body.get("healthcheck") or {}
        test = check.get("test") or []
        if test[:1] == ["CMD-SHELL"]:
            test = ["CMD", "/bin/sh", "-c", test[1]]
        services[name] = Service(
            name=name,
            image=body["image"],
            command=list(body.get("command") or []),
            environment={k: str(v) for k, v in (body.get("environment") or {}).items()},
            volumes=list(body.get("volumes") or []),
            depends_on=list(body.get("depends_on") or []),
            healthy_when=test[1:] if test[:1] == ["CMD"] and not check.get("disable") else None,
        )
    return services


def _in_order(services: dict[str, Service]) -> list[Service]:
    ordered: list[Service] = []

    def visit(service: Service) -> None:
        for dependency in service.depends_on:
            visit(services[dependency])
        if service not in ordered:
            ordered.append(service)

    for service in services.values():
        visit(service)
    return ordered


def container(project: str, service: str) -> str:
    return f"{project}_{service}_1"


def up(
    project: str,
    services: dict[str, Service],
    environment: Mapping[str, Mapping[str, str]],
    timeout: float = 180.0,
) -> None:
    """Start every service on host networking, each with `environment[name]` added."""
    for service in _in_order(services):
        for dependency in service.depends_on:
            _wait_healthy(project, services[dependency], timeout)
        env = {**service.environment, **environment.get(service.name, {})}
        podman(
            "run",
            "--detach",
            f"--name={container(project, service.name)}",
            "--network=host",
            "--restart=unless-stopped",
            *(f"--volume={project}_{volume}" for volume in service.volumes),
            *(f"--env={key}={value}" for key, value in env.items()),
            service.image,
            *service.command,
        )


def _wait_healthy(project: str, service: Service, timeout: float) -> None:
    if service.healthy_when is None:
        return
    name = container(project, service.name)
    deadline = time.monotonic() + timeout
    while not succeeds("exec", name, *service.healthy_when):
        if time.monotonic() > deadline:
            logs = podman("logs", name, check=False)[-2000:]
            raise AssertionError(f"{service.name} was not healthy within {timeout:.0f} s:\n{logs}")
        time.sleep(1)


def down(project: str, services: dict[str, Service]) -> None:
    for service in services.values():
        podman("rm", "--force", "--time=10", container(project, service.name), check=False)
    volumes = {v.split(":", 1)[0] for s in services.values() for v in s.volumes}
    for volume in volumes:
        podman("volume", "rm", "--force", f"{project}_{volume}", check=False)
