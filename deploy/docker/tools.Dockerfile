# syntax=docker/dockerfile:1
# vanthu tools image: the `vanthu` CLI with every service package, for one-shot deploy tasks
# (migrations, stream provisioning, the smoke test) and for operators' ad-hoc commands.
# Build from the repository root (the uv workspace is the build context):
#   docker build -f deploy/docker/tools.Dockerfile -t vanthu/tools:dev .
# Commands: `vanthu ...`, `vanthu-migrate [SERVICE...]`, `vanthu-smoke`.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: every workspace package (service migrations and CLI plugins live in them)
FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/vanthu/venv
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY contracts contracts
COPY runtime runtime
COPY services services
COPY cli cli
COPY bench bench
COPY testing testing
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --all-packages

# ---- runtime
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 vanthu \
    && useradd --system --uid 10001 --gid vanthu --home-dir /var/lib/vanthu --shell /usr/sbin/nologin vanthu \
    && install -d -o vanthu -g vanthu -m 0750 /var/lib/vanthu /var/lib/vanthu/keys
COPY --from=build /opt/vanthu/venv /opt/vanthu/venv
COPY --chmod=0755 deploy/docker/bin/migrate.py /opt/vanthu/bin/vanthu-migrate
COPY --chmod=0755 deploy/docker/bin/smoke.py /opt/vanthu/bin/vanthu-smoke
COPY --chmod=0755 deploy/docker/bin/healthcheck.py /opt/vanthu/bin/vanthu-healthcheck
LABEL org.opencontainers.image.title="vanthu-tools" \
      org.opencontainers.image.description="vanthu CLI, migrations, provisioning and smoke test" \
      org.opencontainers.image.source="deploy/docker/tools.Dockerfile"
ENV PATH=/opt/vanthu/bin:/opt/vanthu/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /var/lib/vanthu
USER 10001:10001
# One-shot tasks: nothing long-running to probe.
HEALTHCHECK NONE
ENTRYPOINT ["vanthu"]
CMD ["--help"]
