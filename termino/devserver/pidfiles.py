"""Pid files left behind by servers: read them, and drop them when the process they name is gone."""

import sys
from pathlib import Path

import psutil


def read_pid(pid_file: Path) -> int | None:
    """The pid on the first line of pid_file, or None if there is no (readable) pid in it."""
    try:
        first_line = pid_file.read_text().split("\n", 1)[0].strip()
    except FileNotFoundError:
        return None
    return int(first_line) if first_line.isdigit() else None


def describe_stale(pid: int | None) -> str:
    if pid is None:
        return "it holds no pid"
    if not psutil.pid_exists(pid):
        return f"process {pid} no longer exists"
    return f"process {pid} is not our server"


def remove_stale(pid_file: Path, pid: int | None, service: str) -> None:
    print(
        f"{service}: removing stale pid file left by a crashed run: {pid_file} ({describe_stale(pid)})",
        file=sys.stderr,
        flush=True,
    )
    pid_file.unlink(missing_ok=True)


def process_or_none(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
