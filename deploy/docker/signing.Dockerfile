# syntax=docker/dockerfile:1
# vanthu signing service image (PAdES signing workers and signature validation).
# Build from the repository root (the uv workspace is the build context):
#   docker build -f deploy/docker/signing.Dockerfile -t vanthu/signing:dev .
# Runs `vanthu-signing` as uid 10001 on port 8103; configured only by VANTHU_SIGNING_* / VANTHU_* env vars.
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
    uv sync --frozen --no-dev --no-editable --package vanthu-signing

# ---- runtime: the same slim Python, the venv, nothing from the build stage's tools
FROM ${PYTHON_IMAGE} AS runtime
# PKCS#11: SoftHSM2 (development and small provinces; a network HSM mounts its vendor module
# instead and sets the module path), opensc for pkcs11-tool (token inspection and key import).
# Liberation 2 fonts: Times-New-Roman-metric text with Vietnamese diacritics in signature stamps
# (Liberation 1.07 lacks letters such as ư and ố); DejaVu as the fallback.
# Versions follow the Debian release of the base image (security updates arrive by rebuilding).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends softhsm2 opensc fonts-liberation2 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/docker/softhsm2.conf /etc/vanthu/softhsm2.conf
RUN groupadd --system --gid 10001 vanthu \
    && useradd --system --uid 10001 --gid vanthu --home-dir /var/lib/vanthu --shell /usr/sbin/nologin vanthu \
    && install -d -o vanthu -g vanthu -m 0750 /var/lib/vanthu /var/lib/vanthu/keys \
    && install -d -o vanthu -g vanthu -m 0700 /var/lib/vanthu/softhsm /var/lib/vanthu/softhsm/tokens
ENV SOFTHSM2_CONF=/etc/vanthu/softhsm2.conf
COPY --from=build /opt/vanthu/venv /opt/vanthu/venv
COPY --chmod=0755 deploy/docker/bin/healthcheck.py /opt/vanthu/bin/vanthu-healthcheck
LABEL org.opencontainers.image.title="vanthu-signing" \
      org.opencontainers.image.description="vanthu signing service: PAdES signing workers and signature validation" \
      org.opencontainers.image.source="deploy/docker/signing.Dockerfile"
ENV PATH=/opt/vanthu/bin:/opt/vanthu/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VANTHU_SIGNING_HOST=0.0.0.0
# The embedded defaults (SQLite under ./var, local objects) land in the user's own directory.
WORKDIR /var/lib/vanthu
USER 10001:10001
EXPOSE 8103
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["vanthu-healthcheck", "signing"]
ENTRYPOINT ["vanthu-signing"]
