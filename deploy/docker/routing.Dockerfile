# syntax=docker/dockerfile:1
# vanthu routing service image (handling, drafts, approvals, deadlines, tasks).
# Build from the repository root (the uv workspace is the build context):
#   docker build -f deploy/docker/routing.Dockerfile -t vanthu/routing:dev .
# Runs `vanthu-routing` as uid 10001 on port 8102; configured only by VANTHU_ROUTING_* / VANTHU_* env vars.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: resolve exactly what uv.lock says for this one package into /opt/vanthu/venv
FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
# uv from PyPI: a province's build network usually mirrors PyPI, not other registries.
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/vanthu/venv
WORKDIR /src
# Every workspace member must be present for uv to read the workspace; only this service's
# dependency tree is installed (--package), as wheels, not editable links into /src.
COPY pyproject.toml uv.lock ./
COPY contracts contracts
COPY runtime runtime
COPY services services
COPY cli cli
COPY bench bench
COPY testing testing
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package vanthu-routing

# ---- runtime: the same slim Python, the venv, nothing from the build stage's tools
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 vanthu \
    && useradd --system --uid 10001 --gid vanthu --home-dir /var/lib/vanthu --shell /usr/sbin/nologin vanthu \
    && install -d -o vanthu -g vanthu -m 0750 /var/lib/vanthu /var/lib/vanthu/keys
COPY --from=build /opt/vanthu/venv /opt/vanthu/venv
COPY --chmod=0755 deploy/docker/bin/healthcheck.py /opt/vanthu/bin/vanthu-healthcheck
LABEL org.opencontainers.image.title="vanthu-routing" \
      org.opencontainers.image.description="vanthu routing service: handling, drafts, approvals, deadlines, tasks" \
      org.opencontainers.image.source="deploy/docker/routing.Dockerfile"
ENV PATH=/opt/vanthu/bin:/opt/vanthu/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VANTHU_ROUTING_HOST=0.0.0.0
# The embedded defaults (SQLite under ./var, local objects) land in the user's own directory.
WORKDIR /var/lib/vanthu
USER 10001:10001
EXPOSE 8102
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["vanthu-healthcheck", "routing"]
ENTRYPOINT ["vanthu-routing"]
