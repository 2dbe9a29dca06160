"""The platform's privacy notice and the businesses' data-processing agreement (AV-Vertrag), built from the
operator's entries (models.Operator, SubProcessor) and from the code (facts.py), in German or English.

Where the operator has not entered something yet, the document says so in a highlighted warning instead of
inventing it; the staff page lists the same warnings.
"""

from datetime import date

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _

from termino.platform.accesslog import pseudonym
from termino.shared import timeutils
from termino.shared.documents import Document, Section, bullets, fields, heading, para, table, warning

from . import facts
from .models import Category, DpoStatus, Operator, SubProcessor


def _labels() -> dict:
    return {"page": _("Page"), "contents": _("Contents")}


def _date(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def platform_hosts(operator: Operator) -> list[str]:
    return [settings.BASE_DOMAIN, f"www.{settings.BASE_DOMAIN}", *operator.domains]


def operator_block(operator: Operator) -> list:
    """Name, address and contact of the operator, or a warning for what is missing."""
    blocks = []
    if operator.name:
        rows = [(_("Name"), operator.name)]
        if operator.address_lines:
            rows.append((_("Address"), "\n".join(operator.address_lines)))
        if operator.representative:
            rows.append((_("Represented by"), operator.representative))
        if operator.email:
            rows.append((_("E-mail"), operator.email))
        if operator.phone:
            rows.append((_("Phone"), operator.phone))
        blocks.append(fields(rows))
    missing = [
        label
        for label, value in (
            (_("name"), operator.name),
            (_("address"), operator.street and operator.city),
            (_("e-mail address"), operator.email),
        )
        if not value
    ]
    if missing:
        blocks.append(
            warning(
                _("The operator of this installation has not entered its %(what)s yet.")
                % {"what": ", ".join(missing)}
            )
        )
    return blocks


def dpo_blocks(operator: Operator) -> list:
    if operator.dpo_status == DpoStatus.APPOINTED and operator.dpo_name:
        rows = [(_("Name"), operator.dpo_name)]
        if operator.dpo_contact:
            rows.append((_("Contact"), operator.dpo_contact))
        return [para(_("We have appointed a data-protection officer:")), fields(rows)]
    if operator.dpo_status == DpoStatus.NONE:
        return [
            para(
                _(
                    "We have not appointed a data-protection officer. Please send questions about data "
                    "protection to the contact above."
                )
            )
        ]
    return [warning(_("The operator has not stated yet whether a data-protection officer is appointed."))]


def _in_effect(on: date, *, customer_data_only: bool = False):
    rows = SubProcessor.objects.filter(active_from__lte=on).exclude(active_until__lte=on)
    if customer_data_only:
        rows = rows.filter(customer_data=True)
    return list(rows)


def _announced(on: date, *, customer_data_only: bool = False):
    """Changes announced but not in effect yet: new providers, and ends of current ones."""
    starting = SubProcessor.objects.filter(active_from__gt=on)
    ending = SubProcessor.objects.filter(active_from__lte=on, active_until__gt=on)
    if customer_data_only:
        starting, ending = starting.filter(customer_data=True), ending.filter(customer_data=True)
    return list(starting), list(ending)


def subprocessor_table(rows) -> list:
    header = (_("Provider"), _("What for"), _("Where"), _("Transfer safeguards"))
    body = []
    for sp in rows:
        name = sp.name + (f", {' '.join(sp.address.split())}" if sp.address else "")
        body.append(
            (
                name,
                f"{sp.get_category_display()}: {sp.purpose}",
                sp.location,
                sp.safeguards or _("none needed (EU/EEA)"),
            )
        )
    return [table(header, body)] if body else []


def _expected_categories() -> list[tuple[str, str]]:
    """Providers the code uses, so the lists must name one (category, what the code does)."""
    expected = [(Category.HOSTING, _("The application runs on servers; no hosting provider is listed."))]
    if facts.email_provider_in_use():
        expected.append(
            (Category.EMAIL, _("E-mails go out through an SMTP server; no e-mail provider is listed."))
        )
    if facts.sms_in_use():
        expected.append((Category.SMS, _("SMS go out through LOX24; no SMS provider is listed.")))
    if facts.payments_in_use():
        expected.append((Category.PAYMENTS, _("Payments run through Stripe; no payment provider is listed.")))
    return expected


def provider_warnings(rows) -> list:
    present = {sp.category for sp in rows}
    return [warning(text) for category, text in _expected_categories() if category not in present]


# --- The privacy notice ----------------------------------------------------------------------------------


def privacy_notice(language: str, *, today: date | None = None) -> Document:
    with translation.override(language):
        return _privacy_notice(today or timeutils.now().date())


def _privacy_notice(today: date) -> Document:
    operator = Operator.current()
    providers = _in_effect(today)
    hosts = platform_hosts(operator)
    sections = [
        Section(
            "controller",
            _("Who is responsible"),
            (
                para(
                    _(
                        "Responsible for the processing of personal data on this platform (controller under "
                        "Art. 4 no. 7 GDPR) is:"
                    )
                ),
                *operator_block(operator),
                heading(_("Data-protection officer")),
                *dpo_blocks(operator),
            ),
        ),
        Section(
            "scope",
            _("What this notice covers"),
            (
                para(
                    _(
                        "This notice covers the website of the platform at %(hosts)s and the addresses of "
                        "the "
                        "businesses that use it (%(pattern)s): visits to these pages, signing up, logging in "
                        "and using the backoffice."
                    )
                    % {"hosts": ", ".join(hosts), "pattern": f"<address>.{settings.BASE_DOMAIN}"}
                ),
                para(
                    _(
                        "Businesses use the platform to manage their appointments and customers. For their "
                        "customers' data (bookings, contact details, messages) the business is the "
                        "controller and we process the data on its behalf (Art. 28 GDPR). What a business "
                        "does with your data is described in its own privacy notice, linked at the foot of "
                        "its booking page; please address requests about it to the business."
                    )
                ),
            ),
        ),
        Section(
            "server-log",
            _("Visiting the website: server log"),
            (
                para(
                    _(
                        "Each time a page or file is requested, the server records the following in its log "
                        "(access log):"
                    )
                ),
                bullets(text for _name, text in facts.log_fields()),
                para(
                    _(
                        "The log is pseudonymous: your IP address is used only to form the pseudonym and is "
                        "not stored. The key of the pseudonym is new every day and deleted after %(key)s; "
                        "after that nobody, including us, can get back from the pseudonym to the address. "
                        "Visits can be grouped within one day and one business, not across days or "
                        "businesses. Static files (styles, pictures) and the health checks of our servers "
                        "are not logged."
                    )
                    % {"key": facts.days(pseudonym.SECRET_TTL_SECONDS // 86400)}
                ),
                para(
                    _(
                        "Purpose: to run the website securely, find errors and misuse, and count visits "
                        "(pages viewed, referring pages, browsers). Legal basis: Art. 6(1)(f) GDPR, our "
                        "legitimate interest in a secure and working website."
                    )
                ),
                para(
                    _("Entries are deleted after %(period)s.")
                    % {"period": facts.days(settings.ACCESS_LOG_DAYS)}
                ),
                para(
                    _(
                        "The application's own operating messages name the kind of page, the status and "
                        "the processing time of a request, never the IP address or the full address of "
                        "the page."
                    )
                ),
            ),
        ),
        Section(
            "cookies",
            _("Cookies"),
            (
                para(
                    _(
                        "We set only cookies that are strictly necessary for what you asked for: logging in, "
                        "protecting forms and remembering your language. We use no cookies for statistics, "
                        "advertising or tracking, and none from other providers:"
                    )
                ),
                table((_("Name"), _("Purpose"), _("Lifetime"), _("Set by")), facts.cookie_rows()),
                para(
                    _(
                        "Legal basis: § 25(2) no. 2 TDDDG (storing them is strictly necessary for the "
                        "service "
                        "you asked for) and Art. 6(1)(b) and (f) GDPR. You can delete cookies and refuse "
                        "them "
                        "in your browser's settings at any time; without them you can read the pages, but "
                        "not log in or send forms. The booking pages of the businesses set no cookies."
                    )
                ),
            ),
        ),
        Section(
            "registration",
            _("Signing up a business"),
            (
                para(_("When you sign up a business we store:")),
                bullets(
                    (
                        _("your name, the company name and address, phone number and e-mail address;"),
                        _("your password, only as a hash (see data security);"),
                        _("the address you chose for the business;"),
                        _(
                            "the time you accepted the terms and which version of this privacy notice you "
                            "were shown;"
                        ),
                        _("when you confirmed your e-mail address through the link we sent there."),
                    )
                ),
                para(
                    _(
                        "Purpose: to set up and provide the service, bill it and reach you about your "
                        "contract. Legal basis: Art. 6(1)(b) GDPR (contract), for invoices also Art. 6(1)(c) "
                        "GDPR (commercial and tax law)."
                    )
                ),
                para(
                    _(
                        "To stop automated mass sign-ups, we count how many businesses are created from one "
                        "IP address (at most %(hour)d an hour and %(day)d a day); the counters are kept in "
                        "memory for at most a day and then disappear by themselves. Legal basis: Art. "
                        "6(1)(f) "
                        "GDPR."
                    )
                    % {"hour": settings.SIGNUPS_PER_IP_PER_HOUR, "day": settings.SIGNUPS_PER_IP_PER_DAY}
                ),
            ),
        ),
        Section(
            "login",
            _("Logging in"),
            (
                para(_("Every login, failed login, lockout, password reset and logout is recorded with:")),
                bullets(
                    (
                        _("the login name used and, where it exists, the account;"),
                        _("date and time;"),
                        _("the IP address;"),
                        _("the browser's identification (user agent);"),
                        _("the outcome (e.g. successful, wrong password, locked out)."),
                    )
                ),
                para(
                    _(
                        "Purpose: to protect the accounts against password guessing and misuse and to let "
                        "the owner of a business see who logged in (login history). Legal basis: Art. "
                        "6(1)(f) "
                        "GDPR and, for the business's own team, Art. 6(1)(b) GDPR. The full IP address is "
                        "shortened to its network after %(period)s; the records are deleted with the "
                        "business's account."
                    )
                    % {"period": facts.days(settings.LOGIN_IP_DAYS)}
                ),
            ),
        ),
        Section(
            "service",
            _("Using the platform, payments and e-mails"),
            (
                para(
                    _(
                        "While a business uses the platform we process its registration data, the data of "
                        "its team's logins, its plan and payment status, to provide and bill the service "
                        "(Art. 6(1)(b) GDPR)."
                    )
                ),
                *(
                    [
                        para(
                            _(
                                "Payments are handled by our payment provider (see recipients): card or "
                                "account details are entered on its pages and stay there; we store only its "
                                "customer number, the plan and whether payment went through."
                            )
                        )
                    ]
                    if facts.payments_in_use()
                    else []
                ),
                para(
                    _(
                        "We send e-mails that belong to the service: confirming the e-mail address, "
                        "resetting "
                        "a password, invitations to a team, notices about the contract and about changes of "
                        "our sub-processors. On behalf of the businesses we send their customers booking "
                        "confirmations and reminders by e-mail%(sms)s."
                    )
                    % {"sms": _(" and SMS") if facts.sms_in_use() else ""}
                ),
            ),
        ),
        Section(
            "recipients",
            _("Recipients and processors"),
            (
                para(
                    _(
                        "We use the following providers, bound by contract to process data only on our "
                        "instructions (Art. 28 GDPR), or as independent recipients where they act on their "
                        "own account (such as a payment provider):"
                    )
                ),
                *subprocessor_table(providers),
                *provider_warnings(providers),
                para(
                    _(
                        "Data is passed to other recipients only where the law obliges us (e.g. to "
                        "authorities) or you asked for it. Where a provider processes data outside the "
                        "EU/EEA "
                        "the table names the safeguard (Art. 44 ff. GDPR)."
                    )
                ),
            ),
        ),
        Section(
            "retention",
            _("How long data is kept"),
            (
                para(_("We delete personal data when it is no longer needed for its purpose:")),
                table(
                    (_("Data"), _("Storage period")),
                    [(p.what, p.how_long) for p in facts.retention_periods()],
                ),
                para(
                    _(
                        "The data a business keeps about its customers follows that business's own "
                        "retention rules; unless it sets others:"
                    )
                ),
                bullets(facts.business_retention_defaults()),
            ),
        ),
        Section(
            "rights",
            _("Your rights"),
            (
                para(_("You have the right")),
                bullets(
                    (
                        _("to access the data we hold about you (Art. 15 GDPR);"),
                        _("to have wrong data corrected (Art. 16 GDPR);"),
                        _("to have your data erased (Art. 17 GDPR);"),
                        _("to have its processing restricted (Art. 18 GDPR);"),
                        _("to receive your data in a common machine-readable format (Art. 20 GDPR);"),
                        _(
                            "to object at any time to processing based on our legitimate interests, on "
                            "grounds relating to your particular situation (Art. 21 GDPR);"
                        ),
                        _("to withdraw a consent at any time, for the future (Art. 7(3) GDPR)."),
                    )
                ),
                para(
                    _(
                        "Write to the contact named above. Business owners can also export all their "
                        "business's data and close their account themselves on the Account page of the "
                        'backoffice. Customers of a business use the link "Your data" on its booking page.'
                    )
                ),
            ),
        ),
        Section(
            "complaint",
            _("Right to complain to a supervisory authority"),
            (
                para(
                    _(
                        "You may complain to a data-protection supervisory authority, in particular in the "
                        "member state where you live or work or where the infringement is alleged (Art. 77 "
                        "GDPR). The authority responsible for us is:"
                    )
                ),
                *(
                    [
                        fields(
                            [(_("Authority"), operator.authority_name)]
                            + (
                                [(_("Address"), operator.authority_address)]
                                if operator.authority_address
                                else []
                            )
                            + ([(_("Website"), operator.authority_url)] if operator.authority_url else [])
                        )
                    ]
                    if operator.authority_name
                    else [warning(_("The operator has not entered its supervisory authority yet."))]
                ),
            ),
        ),
        Section(
            "security",
            _("Data security"),
            (
                bullets(
                    [
                        *facts.transport_measures(),
                        *facts.access_measures(),
                        *facts.separation_measures(),
                    ]
                ),
                *(
                    [para(_("Backups: %(backups)s") % {"backups": operator.backups})]
                    if operator.backups
                    else [warning(_("The operator has not described its backups yet."))]
                ),
            ),
        ),
        Section(
            "no-profiling",
            _("No automated decisions, no tracking"),
            (
                para(
                    _(
                        "We make no decisions based solely on automated processing (Art. 22 GDPR) and create "
                        "no profiles. The pages load no tracking, advertising or social-media code and no "
                        "fonts or scripts from other providers."
                    )
                ),
            ),
        ),
        Section(
            "changes",
            _("Changes to this notice"),
            (
                para(
                    _(
                        "This notice is built from the settings and the program code of the platform, so it "
                        "changes when they change. Every version is kept with the date it was published; "
                        "the list of versions is linked below."
                    )
                ),
            ),
        ),
    ]
    return Document(
        title=_("Privacy notice"),
        language=translation.get_language(),
        sections=tuple(sections),
        labels=_labels(),
    )


# --- The data-processing agreement (AV-Vertrag) ----------------------------------------------------------


def dpa(language: str, *, today: date | None = None) -> Document:
    with translation.override(language):
        return _dpa(today or timeutils.now().date())


def _dpa(today: date) -> Document:
    operator = Operator.current()
    providers = _in_effect(today, customer_data_only=True)
    starting, ending = _announced(today, customer_data_only=True)
    processor = operator.name or _("the operator of this platform")
    intro = (
        para(
            _(
                "Agreement on the processing of personal data on behalf of a controller under Art. 28 GDPR "
                "between the business that uses the platform (the controller, “the business”) and "
                "%(processor)s (the processor, “we”)."
            )
            % {"processor": processor}
        ),
        *operator_block(operator),
    )
    sections = [
        Section(
            "subject",
            _("Subject and duration"),
            (
                para(
                    _(
                        "We provide the business with the Termino platform for appointments, online booking "
                        "and customer relations under the terms of service. In doing so we process personal "
                        "data on the business's behalf. This agreement applies as long as the business uses "
                        "the platform and until its data is deleted (see “Deletion and return at the end”)."
                    )
                ),
            ),
        ),
        Section(
            "nature",
            _("Nature and purpose, kinds of data, data subjects"),
            (
                fields(
                    (
                        (
                            _("Nature and purpose"),
                            _(
                                "Storing and showing appointments and customer records, online booking, "
                                "sending booking confirmations and reminders, answering data-subject "
                                "requests, applying the business's retention rules, backups."
                            ),
                        ),
                        (
                            _("Kinds of data"),
                            _(
                                "Names and contact details (e-mail address, phone number); appointments "
                                "(service, time, staff member, status, notes); notes and tags about "
                                "customers; "
                                "consents given; texts and delivery status of messages; requests under data "
                                "protection law; login data and login records of the business's team."
                            ),
                        ),
                        (
                            _("Data subjects"),
                            _(
                                "Customers and prospective customers of the business; the business's team "
                                "members."
                            ),
                        ),
                    )
                ),
                para(
                    _(
                        "The business decides which data it enters and which it asks its customers for. It "
                        "should not enter special categories of data (Art. 9 GDPR, e.g. health data) into "
                        "free-text fields unless it has a legal basis for that."
                    )
                ),
            ),
        ),
        Section(
            "instructions",
            _("Instructions"),
            (
                para(
                    _(
                        "We process the data only on the business's documented instructions: this agreement, "
                        "the terms of service, and what the business sets and does in the backoffice or "
                        "through the API. Other instructions must be given in writing or by e-mail. Where "
                        "the "
                        "law of the EU or a member state obliges us to process data otherwise, we tell the "
                        "business before, unless that law forbids it. If we think an instruction infringes "
                        "data-protection law, we tell the business without delay."
                    )
                ),
            ),
        ),
        Section(
            "confidentiality",
            _("Confidentiality"),
            (
                para(
                    _(
                        "Everyone who can access the business's data on our side is bound to confidentiality "
                        "or under a statutory obligation of confidentiality. Platform staff access a "
                        "business's data only where it is needed for support or to keep the service "
                        "running; signing in as a user of the business needs a reason and is logged."
                    )
                ),
            ),
        ),
        Section(
            "security",
            _("Security of processing"),
            (
                para(
                    _(
                        "We take the technical and organisational measures of annex 2 (Art. 32 GDPR). We may "
                        "develop them further as long as the level of protection does not fall; annex 2 "
                        "always "
                        "shows the measures in force."
                    )
                ),
            ),
        ),
        Section(
            "subprocessors",
            _("Sub-processors"),
            (
                para(
                    _(
                        "The business authorises us in general to engage sub-processors. Those engaged now "
                        "are "
                        "listed in annex 1. We bind each of them by contract to the same data-protection "
                        "obligations as this agreement (Art. 28(4) GDPR)."
                    )
                ),
                para(
                    _(
                        "We inform the business by e-mail to its owner's address of any intended addition or "
                        "replacement of a sub-processor at least %(days)s before it takes effect. The "
                        "business "
                        "may object to the change within that time for an important reason related to data "
                        "protection; if we cannot resolve the objection, the business may terminate the "
                        "contract before the change takes effect."
                    )
                    % {"days": facts.days(operator.notice_days)}
                ),
            ),
        ),
        Section(
            "assistance",
            _("Support for the business"),
            (
                para(
                    _(
                        "We support the business in answering requests of data subjects (Art. 12–22 GDPR): "
                        "the backoffice exports a customer's data as JSON and CSV, corrects, erases and "
                        "restricts it and records objections; customers can send their requests through the "
                        "booking page, confirmed by e-mail."
                    )
                ),
                para(
                    _(
                        "We support the business with its obligations under Art. 32 to 36 GDPR (security, "
                        "notification of breaches, data-protection impact assessment, prior consultation) "
                        "with the information available to us. We notify the business without undue delay "
                        "after becoming aware of a personal-data breach that concerns its data, with what is "
                        "known about it."
                    )
                ),
            ),
        ),
        Section(
            "deletion",
            _("Deletion and return at the end"),
            (
                para(
                    _(
                        "The business can export all its data at any time (Account page: a ZIP file with "
                        "every table as JSON and CSV). When the contract ends, the booking page closes and "
                        "all data of the business is deleted %(period)s after the cancellation takes effect, "
                        "unless the law obliges us to keep it. Copies in backups are overwritten as the "
                        "backups are replaced."
                    )
                    % {"period": facts.days(settings.BILLING_RETENTION_DAYS)}
                ),
            ),
        ),
        Section(
            "audits",
            _("Evidence and audits"),
            (
                para(
                    _(
                        "We make available to the business the information needed to demonstrate compliance "
                        "with Art. 28 GDPR and allow for and contribute to audits by the business or an "
                        "auditor it mandates, after reasonable notice, during business hours and without "
                        "disturbing operations or the confidentiality of other businesses' data."
                    )
                ),
            ),
        ),
        Section(
            "final",
            _("Final provisions"),
            (
                para(
                    _(
                        "Liability follows Art. 82 GDPR and otherwise the terms of service. Where this "
                        "agreement and the terms of service differ on data protection, this agreement "
                        "prevails. The business accepts it in the backoffice; the acceptance is recorded "
                        "with "
                        "the version, the time and the person who accepted."
                    )
                ),
            ),
        ),
        Section(
            "annex-1",
            _("Annex 1: Sub-processors"),
            (
                *(
                    subprocessor_table(providers)
                    or [warning(_("The operator has not entered any sub-processor yet."))]
                ),
                *provider_warnings(providers),
                *(
                    [
                        heading(_("Announced changes")),
                        bullets(
                            [
                                _("%(name)s (%(what)s) from %(date)s")
                                % {
                                    "name": sp.name,
                                    "what": sp.get_category_display(),
                                    "date": _date(sp.active_from),
                                }
                                for sp in starting
                            ]
                            + [
                                _("%(name)s no longer from %(date)s")
                                % {"name": sp.name, "date": _date(sp.active_until)}
                                for sp in ending
                            ]
                        ),
                    ]
                    if starting or ending
                    else []
                ),
            ),
        ),
        Section(
            "annex-2",
            _("Annex 2: Technical and organisational measures"),
            (
                para(
                    _("As implemented in the program code and settings of this installation (Art. 32 GDPR):")
                ),
                heading(_("Encryption and transport")),
                bullets(facts.transport_measures()),
                heading(_("Access control and authentication")),
                bullets(facts.access_measures()),
                heading(_("Separation of businesses")),
                bullets(facts.separation_measures()),
                heading(_("Pseudonymisation, logging and audit trails")),
                bullets(facts.logging_measures()),
                heading(_("Deletion and data-subject rights")),
                bullets(facts.retention_measures()),
                heading(_("Availability: hosting and backups")),
                *(
                    [para(_("Servers: %(where)s") % {"where": operator.hosting_location})]
                    if operator.hosting_location
                    else [warning(_("The operator has not entered where the servers are."))]
                ),
                *(
                    [para(_("Backups: %(backups)s") % {"backups": operator.backups})]
                    if operator.backups
                    else [warning(_("The operator has not described its backups yet."))]
                ),
                heading(_("Physical security")),
                para(
                    _(
                        "Access to the servers and buildings is controlled by the hosting providers of "
                        "annex 1 under their contracts with us."
                    )
                ),
            ),
        ),
    ]
    return Document(
        title=_("Data-processing agreement (AV-Vertrag)"),
        language=translation.get_language(),
        intro=intro,
        sections=tuple(sections),
        labels=_labels(),
    )
