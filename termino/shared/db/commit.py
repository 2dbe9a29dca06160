"""Work that follows a commit, once per transaction however many writes in it asked for it."""

from functools import partial

from django.db import connection, transaction


def after_commit_once(key, func) -> None:
    """Run `func` once the current transaction commits, at most once per transaction and `key` (a hundred
    saves in one transaction ask once); outside a transaction, at once."""
    if not connection.in_atomic_block:
        func()
        return
    if any(getattr(queued, "commit_once_key", None) == key for _, queued, _ in connection.run_on_commit):
        return
    run = partial(func)
    run.commit_once_key = key
    transaction.on_commit(run, robust=True)
