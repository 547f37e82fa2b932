#!/usr/bin/env bash
# Installs the Python packages the end-to-end tests use into a venv under .cache/python (never committed):
#   openai   the official client, which scripts/test_openai_client.py drives against `swift-tune deploy`
#   selenium drives headless Chromium in scripts/test_web_ui_browser.py (the web UI's browser test)
# Needs python3 with venv and pip (PyPI only). Skips the install when the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1   # no "running as root" or upgrade warnings
venv=.cache/python
openai_version=3.51.0
selenium_version=4.51.0
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import openai, selenium, sys; sys.exit(openai.__version__ != '$openai_version' or selenium.__version__ != '$selenium_version')" 2>/dev/null; then
    echo "setup_python: $venv has openai $openai_version and selenium $selenium_version"
    exit 0
fi
if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 without ensurepip: a venv without pip, filled by the system pip.
    python3 -m venv --without-pip "$venv"
fi
if [ -x "$venv/bin/pip" ]; then
    "$venv/bin/pip" install -q --disable-pip-version-check "openai==$openai_version" "selenium==$selenium_version"
else
    python3 -m pip install -q --disable-pip-version-check --target "$("$venv/bin/python" -c 'import site; print(site.getsitepackages()[0])')" \
        "openai==$openai_version" "selenium==$selenium_version"
fi
"$venv/bin/python" -c "import openai, selenium; print('setup_python: openai', openai.__version__, 'selenium', selenium.__version__, 'in $venv')"
