"""The booking page's privacy notice: generated from the business's settings until the business writes its
own, each version archived before a customer accepts it; and the business accepting the generated one."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from termino.shared import documents as docs
from termino.tenants.business.models import BusinessSettings

from . import documents
from .models import NoticeAcceptance, NoticeVersion

LANGUAGES = ("de", "en")
GENERATED_PREFIX = "auto-"


@dataclass(frozen=True)
class BookingNotice:
    version: str
    generated: bool
    text: str  # the business's own text ("" when generated)
    built: dict  # language → Document (empty when the business wrote its own)

    def document(self, language: str | None = None) -> docs.Document | None:
        if not self.generated:
            return None
        language = (language or translation.get_language() or "de")[:2]
        return self.built.get(language) or self.built["de"]


def booking_notice_current(tenant, rules: BusinessSettings | None = None) -> BookingNotice:
    """What the booking page shows now, and the version a customer accepting it accepts."""
    rules = rules or BusinessSettings.current()
    if rules.privacy_notice:
        return BookingNotice(
            version=rules.privacy_policy_version, generated=False, text=rules.privacy_notice, built={}
        )
    inputs = documents.notice_inputs(tenant, rules)
    built = {language: documents.booking_notice(language, tenant, inputs) for language in LANGUAGES}
    version = GENERATED_PREFIX + docs.digest(*built.values())[:12]
    return BookingNotice(version=version, generated=True, text="", built=built)


def notice_archive(notice: BookingNotice) -> NoticeVersion:
    """Keep the text of a version before anyone accepts it (idempotent, safe under concurrent bookings)."""
    found = NoticeVersion.objects.filter(version=notice.version).first()
    if found is not None:
        return found
    content = (
        {lang: doc.to_json() for lang, doc in notice.built.items()}
        if notice.generated
        else {"text": notice.text}
    )
    try:
        with transaction.atomic():
            return NoticeVersion.objects.create(
                version=notice.version, generated=notice.generated, content=content, created_at=timezone.now()
            )
    except IntegrityError:  # a concurrent booking archived it first
        return NoticeVersion.objects.get(version=notice.version)


def notice_version_for_consent(tenant, rules: BusinessSettings) -> str:
    """The version a booking's consent records, archived on the way."""
    notice = booking_notice_current(tenant, rules)
    notice_archive(notice)
    return notice.version


@transaction.atomic
def booking_notice_accept(*, tenant, user, version: str) -> NoticeAcceptance:
    """The business adopts the generated notice it was shown (it goes on following its settings)."""
    from django.utils.translation import gettext as _

    from termino.shared.errors import InvalidRequest

    notice = booking_notice_current(tenant)
    if not notice.generated:
        raise InvalidRequest(
            _("Your booking page shows your own text; there is no generated notice to accept.")
        )
    if version != notice.version:
        raise InvalidRequest(
            _("Your settings changed the generated notice while you were reading it. Please read it again.")
        )
    notice_archive(notice)
    return NoticeAcceptance.objects.create(
        version=notice.version,
        accepted_at=timezone.now(),
        user=user,
        username=user.get_username(),
        user_name=user.get_full_name(),
    )


def notice_acceptance_latest() -> NoticeAcceptance | None:
    return NoticeAcceptance.objects.first()


def generated_text(tenant, language: str) -> str:
    """The generated notice as plain text: the starting point when the business writes its own."""
    return documents.booking_notice(language, tenant).plain_text()
