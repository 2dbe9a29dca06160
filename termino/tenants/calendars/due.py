"""Scheduled pulls are due work (`termino.platform.duework`): beat's dispatcher visits a business when its
earliest connected calendar is due (`CalDavConnection.next_pull_at`), never every business in turn."""

from termino.platform.duework import due

from .services import PULL_KIND, pull_due_run, pull_next_due


def register() -> None:
    due.register(PULL_KIND, run=pull_due_run, next_due=pull_next_due)
