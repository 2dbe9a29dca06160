"""python -m termino.devserver {run,services} (from the project root)."""

import argparse
import sys
from pathlib import Path

from .errors import ServiceError
from .supervisor import DevConfig, run, services_only


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m termino.devserver", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="services, migrations, demo data, then web + worker + beat (make run)")
    commands.add_parser("services", help="only the embedded PostgreSQL and Redis, until Ctrl-C")
    args = parser.parse_args(argv)
    # Line buffering: output reaches a pipe (make, CI, tests) as it happens.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        config = DevConfig.from_env(Path.cwd())
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run(config) if args.command == "run" else services_only(config)


if __name__ == "__main__":
    sys.exit(main())
