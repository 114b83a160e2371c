"""Running Fairhour's settings in a fresh process, as an operator's shell would."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` under config.settings with only `env` set (never a developer's .env)."""
    clean_env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "FAIRHOUR_ENV_FILE": "",
        **env,
    }
    return subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=clean_env, capture_output=True, text=True, check=False
    )
