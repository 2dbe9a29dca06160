"""Binaries the deployment tests run (pgbouncer, nginx): from PATH, or unpacked by scripts/ensure-tools.sh."""

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".run" / "tools"


def tool(name: str) -> tuple[str, dict[str, str]]:
    """(path, environment) to run `name` with; the environment finds the libraries unpacked beside it."""
    env = dict(os.environ)
    on_path = shutil.which(name)
    if on_path:
        return on_path, env
    unpacked = TOOLS / "usr" / "sbin" / name
    if not unpacked.exists():
        raise FileNotFoundError(f"{name} is neither on PATH nor in {TOOLS}; run scripts/ensure-tools.sh")
    libs = str(TOOLS / "usr" / "lib" / "x86_64-linux-gnu")
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [libs, env.get("LD_LIBRARY_PATH")]))
    return str(unpacked), env
