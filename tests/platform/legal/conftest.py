"""Helpers of the legal documents' tests: eager Celery, a signed-in platform staff member, the documents."""

import pytest
from django.conf import settings
from django.test import TestCase

from termino.celery import app as celery_app
from termino.platform.legal import selectors, services
from termino.platform.legal.models import DocumentKind
from tests.conftest import client_for
from tests.platform.staffadmin.conftest import make_staff, sign_in


@pytest.fixture
def eager_tasks():
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


@pytest.fixture
def staffed():
    user = make_staff()
    return user, sign_in(user)


def platform(language: str = "en"):
    return client_for(settings.BASE_DOMAIN, language)


def current_text(kind: str = DocumentKind.PRIVACY, language: str = "en") -> str:
    version = services.document_current(kind)
    return selectors.version_document(version, language).plain_text()


def on_commit():
    return TestCase.captureOnCommitCallbacks(execute=True)
