"""Podman for the image and compose tests, on machines that reach no image registry.

The base image is built here from Debian's packages (`debootstrap` into a tarball, imported as
a local image), cached under /var/cache/masthead and rebuilt only when missing. This machine's
quirks are handled in a containers.conf of our own (CONTAINERS_CONF, nothing global changed):
root may not raise rlimits here, so podman's defaults (nofile and nproc at 1048576) make runc
fail ("error setting rlimits"): default_ulimits keeps nofile at what we have and nproc at 4096
(higher values failed too); the cgroups are hybrid (v1 with a named systemd hierarchy), which
runc handles; and no systemd runs, so cgroupfs and file events. Builds reach PyPI through this
host's TLS-inspecting proxy: its CA bundle is mounted into the build and given to pip.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from pathlib import Path

from tests.support.deploy import REPO

CACHE = Path(os.environ.get("MASTHEAD_CONTAINER_CACHE", "/var/cache/masthead"))
BASE = "localhost/masthead-base:bookworm"
IMAGE = "localhost/masthead:test"
DEBIAN_MIRROR = os.environ.get("MASTHEAD_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = "python3,python3-venv,ca-certificates,libmagic1"
TOOLS = ("podman", "buildah", "runc")


def env() -> dict[str, str]:
    """The environment every podman call runs in: ours, plus CONTAINERS_CONF."""
    CACHE.mkdir(parents=True, exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    conf = CACHE / "containers.conf"
    conf.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={soft}:{hard}", "nproc=4096:4096"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def podman(*args: str, timeout: float = 120, check: bool = True) -> str:
    done = subprocess.run(
        ["podman", *args], env=env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}:\n{done.stdout}{done.stderr}")
    return done.stdout


def succeeds(*args: str, timeout: float = 60) -> bool:
    done = subprocess.run(
        ["podman", *args], env=env(), capture_output=True, timeout=timeout, check=False
    )
    return done.returncode == 0


def unavailable() -> str | None:
    """Why podman cannot run containers here, or None when it can."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (`make test` installs them as root)"
    if os.geteuid() != 0:
        return "the container tests run podman as root (rootless is not set up here)"
    done = subprocess.run(
        ["podman", "info"], env=env(), capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        return f"`podman info` fails: {done.stderr.strip()[-300:]}"
    return None


def ensure_base() -> None:
    """Debian bookworm with python3 as a local image: imported from the cached tarball, which
    debootstrap makes when it is missing (a few minutes, once per machine)."""
    if subprocess.run(["podman", "image", "exists", BASE], env=env(), check=False).returncode == 0:
        return
    tarball = CACHE / "debian-bookworm-python.tar"
    if not tarball.exists():
        if shutil.which("debootstrap") is None:
            raise AssertionError("debootstrap is not installed (`make test` installs it)")
        root = CACHE / "rootfs.partial"
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={BASE_PACKAGES}",
                "bookworm",
                str(root),
                DEBIAN_MIRROR,
            ],
            check=True,
            capture_output=True,
            timeout=1800,
        )
        for leftover in (
            "var/cache/apt/archives",
            "var/lib/apt/lists",
            "usr/share/doc",
            "usr/share/man",
            "usr/share/locale",
        ):
            for path in (root / leftover).glob("*"):
                if path.is_symlink() or path.is_file():  # doc folders link to others
                    path.unlink()
                else:
                    shutil.rmtree(path)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.replace(tarball)
        shutil.rmtree(root)
    podman("import", "--change", 'CMD ["/bin/bash"]', str(tarball), BASE, timeout=600)


def host_ca_bundle() -> Path:
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return Path("/etc/ssl/certs/ca-certificates.crt")


def build_image(tag: str = IMAGE) -> float:
    """`podman build` of the repository's Dockerfile on the local base; seconds it took.
    Layers and pip's downloads (CACHE/pip) are reused between runs."""
    ensure_base()
    (CACHE / "pip").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    podman(
        "build",
        "--format=docker",  # OCI images drop HEALTHCHECK
        "--network=host",
        f"--build-arg=BASE={BASE}",
        "--build-arg=PIP_CERT=/run/host-ca.crt",
        f"--volume={host_ca_bundle()}:/run/host-ca.crt:ro",
        f"--volume={CACHE / 'pip'}:/root/.cache/pip",
        f"--tag={tag}",
        str(REPO),
        timeout=1800,
    )
    return time.monotonic() - started
