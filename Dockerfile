# Masthead's image: `masthead serve` on port 8000 with everything it keeps in /data.
#   docker build -t masthead .                        # from python:3.11-slim-bookworm
#   docker build --build-arg BASE=localhost/debian-python:bookworm -t masthead .   # offline
# Other commands: `docker run masthead worker`, `docker run masthead migrate`,
# `docker exec <container> masthead users set-password --email admin@localhost`.
# Any Debian-like base with python3 (3.11+) and its venv module works (docs/deploy.md).
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
# Building behind a TLS-inspecting proxy: pass its CA bundle (docs/deploy.md).
ARG PIP_CERT
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python3 -m venv /opt/masthead \
    && /opt/masthead/bin/pip install --disable-pip-version-check --quiet /src

FROM ${BASE}
# python-magic needs libmagic; a base without it gets it from apt (the offline base has it).
RUN if ! ldconfig -p | grep -q 'libmagic.so.1 '; then \
        apt-get update && apt-get install -y --no-install-recommends libmagic1 \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home masthead \
    && mkdir -p /data && chown masthead:masthead /data
COPY --from=build /opt/masthead /opt/masthead
ENV PATH=/opt/masthead/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    MASTHEAD_DATA_DIR=/data \
    MASTHEAD_HOST=0.0.0.0 \
    MASTHEAD_PORT=8000
USER masthead
WORKDIR /data
VOLUME /data
EXPOSE 8000
# serve drains for up to 10 s on SIGTERM: give it more (`stop_grace_period: 30s` in compose).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['MASTHEAD_PORT']}/healthz\", timeout=2)"]
ENTRYPOINT ["masthead"]
CMD ["serve"]
