"""A business's own data-protection documents, generated from its real configuration: the privacy notice of
its booking page (the business as controller, the platform as processor) and its record of processing
activities (Art. 30(1) GDPR).

Nothing here is typed in: the services offered online, the messages and their channels, the reminder
times, the retention rules, the team by role and the processors are read from the business's schema and
the platform's entries, each time. What only the business knows (a data-protection officer, its
supervisory authority) is marked as a warning for it to add.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from termino.platform.legal import facts
from termino.platform.legal import selectors as legal
from termino.shared import timeutils
from termino.shared.documents import Document, Section, bullets, fields, heading, para, table, warning
from termino.tenants.accounts.models import Role, User
from termino.tenants.business.models import BusinessSettings
from termino.tenants.notifications.models import Channel, MessageKind, MessageTemplate, OutboxMessage
from termino.tenants.retention.models import RetentionPolicy
from termino.tenants.scheduling.models import Service


def _policy() -> RetentionPolicy:
    """The business's rules, or the defaults it has while it never saved any (reading writes nothing)."""
    return RetentionPolicy.objects.filter(id=1).first() or RetentionPolicy(id=1)


def _labels() -> dict:
    return {"page": _("Page"), "contents": _("Contents")}


def _today(tenant):
    return timeutils.today(ZoneInfo(tenant.time_zone or "Europe/Berlin"))


def _controller_rows(tenant) -> list[tuple[str, str]]:
    place = " ".join(part for part in (tenant.postcode, tenant.city) if part)
    rows = [(_("Name"), tenant.name)]
    address = ", ".join(part for part in (tenant.street, place) if part)
    if address:
        rows.append((_("Address"), address))
    if tenant.owner_name:
        rows.append((_("Represented by"), tenant.owner_name))
    if tenant.phone:
        rows.append((_("Phone"), tenant.phone))
    if tenant.email:
        rows.append((_("E-mail"), tenant.email))
    return rows


def _hours_list(leads: list[int]) -> str:
    return ", ".join(ngettext("%(n)d hour", "%(n)d hours", h) % {"n": h} for h in leads)


def _message_lines(rules: BusinessSettings) -> list[str]:
    leads = rules.reminder_leads
    lines = [
        _(
            "By e-mail, if you give your e-mail address: a confirmation of your booking, notices when it "
            "is changed or cancelled%(reminders)s."
        )
        % {
            "reminders": _(", and reminders %(when)s before the appointment") % {"when": _hours_list(leads)}
            if leads
            else ""
        },
        _(
            "By SMS only if you tick the box for SMS reminders: the same messages to your mobile "
            "number%(quiet)s. "
            "You can withdraw this consent at any time (see your rights)."
        )
        % {
            "quiet": _(", never between %(start)02d:00 and %(end)02d:00")
            % {"start": rules.quiet_hours_start, "end": rules.quiet_hours_end}
            if rules.quiet_hours_start != rules.quiet_hours_end
            else ""
        },
    ]
    return lines


def _message_summary(rules: BusinessSettings) -> list[str]:
    """The same facts as _message_lines, for the business's own record (not addressed to the customer)."""
    leads = rules.reminder_leads
    quiet = rules.quiet_hours_start != rules.quiet_hours_end
    return [
        _("E-mail: booking confirmation, change and cancellation notices%(reminders)s.")
        % {
            "reminders": _("; reminders %(when)s before the appointment") % {"when": _hours_list(leads)}
            if leads
            else ""
        },
        _("SMS: the same messages, only to customers who consented%(quiet)s.")
        % {
            "quiet": _("; none between %(start)02d:00 and %(end)02d:00")
            % {"start": rules.quiet_hours_start, "end": rules.quiet_hours_end}
            if quiet
            else ""
        },
    ]


# --- The booking page's privacy notice ---------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeInputs:
    """What the generated booking-page notice is made of besides the business itself: read once, they
    serve the notice in every language (its version hashes both)."""

    rules: BusinessSettings
    policy: RetentionPolicy
    today: date
    processor: legal.ProcessorFacts


def notice_inputs(tenant, rules: BusinessSettings | None = None) -> NoticeInputs:
    today = _today(tenant)
    return NoticeInputs(
        rules=rules or BusinessSettings.current(),
        policy=_policy(),
        today=today,
        processor=legal.processor_facts(today),
    )


def booking_notice(language: str, tenant, inputs: NoticeInputs | None = None) -> Document:
    inputs = inputs or notice_inputs(tenant)
    with translation.override(language):
        return _booking_notice(tenant, inputs)


def _booking_notice(tenant, inputs: NoticeInputs) -> Document:
    rules, policy, today = inputs.rules, inputs.policy, inputs.today
    sections = [
        Section(
            "controller",
            _("Who is responsible"),
            (
                para(_("Responsible for your data when you book an appointment here (controller) is:")),
                fields(_controller_rows(tenant)),
            ),
        ),
        Section(
            "booking",
            _("What we process when you book"),
            (
                bullets(
                    (
                        _("your name, e-mail address and, if you give it, your phone number;"),
                        _("the appointment: service, day and time, the person serving you, its status;"),
                        _("a note you add to the booking;"),
                        _(
                            "that you accepted this notice (with its version) and whether you want SMS "
                            "reminders."
                        ),
                    )
                ),
                para(
                    _(
                        "Purpose: to book, keep and carry out your appointment and to reach you about it. "
                        "Legal "
                        "basis: Art. 6(1)(b) GDPR (the contract or the steps before it you asked for)."
                    )
                ),
                para(
                    _(
                        "If you booked with us before with exactly the same e-mail address and phone number, "
                        "the booking is added to your existing customer record; our team may also note what "
                        "you tell us about your wishes. Legal basis for keeping your customer record: Art. "
                        "6(1)(f) GDPR (our interest in serving returning customers well)."
                    )
                ),
            ),
        ),
        Section(
            "messages",
            _("Confirmations and reminders"),
            (
                bullets(_message_lines(rules)),
                para(
                    _(
                        "Legal basis: Art. 6(1)(b) GDPR for e-mails about your booking; Art. 6(1)(a) GDPR "
                        "(your consent) for SMS."
                    )
                ),
            ),
        ),
        Section(
            "processor",
            _("Who processes the data for us"),
            (
                para(
                    _(
                        "The booking page and our appointment book run on the Termino platform. Its operator "
                        "processes the data on our behalf and on our instructions under a data-processing "
                        "agreement (Art. 28 GDPR):"
                    )
                ),
                *legal.processor_blocks(today, facts=inputs.processor),
                para(
                    _(
                        "When you open the booking page, the platform's server records a pseudonymous log "
                        "entry (no IP address) and sets no cookies; details are in the platform's privacy "
                        "notice: %(url)s"
                    )
                    % {"url": legal.platform_privacy_url()}
                ),
                para(_("We pass your data to no one else unless the law obliges us to.")),
            ),
        ),
        Section(
            "retention",
            _("How long we keep your data"),
            (
                para(_("Our retention rules, applied automatically every night:")),
                bullets(facts.business_retention_rules(policy)),
                para(
                    _(
                        "Records that commercial or tax law obliges us to keep (such as invoices) are kept "
                        "for "
                        "the periods that law sets."
                    )
                ),
            ),
        ),
        Section(
            "rights",
            _("Your rights and how to use them"),
            (
                para(
                    _(
                        "You have the right to access your data (Art. 15 GDPR), to have it corrected (Art. "
                        "16), erased (Art. 17) or its processing restricted (Art. 18), to receive it in a "
                        "machine-readable format (Art. 20), to object to its processing (Art. 21) and to "
                        "withdraw a consent at any time for the future (Art. 7(3))."
                    )
                ),
                para(
                    _(
                        "The simplest way: the link “Your data” at the foot of the booking page. Enter the "
                        "e-mail address you booked with and choose what you want (a copy of your data, "
                        "erasure, "
                        "restriction, or no more marketing); we send a link to that address to confirm that "
                        "it is you, and answer only there. You can also write to us at the contact above. "
                        "Your booking confirmation contains a link to change or cancel the appointment."
                    )
                ),
                para(
                    _(
                        "You may also complain to a data-protection supervisory authority (Art. 77 GDPR), in "
                        "particular where you live or work or where we are based."
                    )
                ),
            ),
        ),
    ]
    intro = (
        para(
            _("Generated from the settings of %(name)s; it changes when they change.") % {"name": tenant.name}
        ),
    )
    return Document(
        title=_("Privacy notice of %(name)s") % {"name": tenant.name},
        language=translation.get_language(),
        intro=intro,
        sections=tuple(sections),
        labels=_labels(),
    )


# --- Record of processing activities (Art. 30(1) GDPR) ------------------------------------------------


def processing_record(language: str, tenant) -> Document:
    with translation.override(language):
        return _processing_record(tenant)


def _team_rows() -> list[tuple[str, str, str]]:
    access = {
        Role.OWNER: _("everything, including the account, billing and the audit trail"),
        Role.MANAGER: _("all appointments, customers, messages and settings"),
        Role.STAFF: _(
            "their own calendar column and the customer records; not the settings, exports or audit trail"
        ),
    }
    people: dict[str, list[str]] = {role: [] for role in Role.values}
    for user in User.objects.filter(is_active=True).order_by("first_name", "last_name", "username"):
        people[user.role].append(user.get_full_name() or user.get_username())
    return [
        (str(Role(role).label), ", ".join(people[role]) or "–", str(access[role])) for role in Role.values
    ]


def _message_rows(tenant, today) -> list[tuple[str, str, str, str]]:
    since = timeutils.shift(timeutils.now(), timedelta(days=-365))
    counts = {
        (row["channel"], row["kind"]): row["n"]
        for row in OutboxMessage.objects.filter(created_at__gte=since)
        .values("channel", "kind")
        .annotate(n=Count("id"))
    }
    own = set(MessageTemplate.objects.values_list("kind", "channel"))
    rows = []
    for channel in Channel:
        for kind in MessageKind:
            rows.append(
                (
                    str(kind.label),
                    str(channel.label),
                    _("own text") if (kind.value, channel.value) in own else _("standard text"),
                    str(counts.get((channel.value, kind.value), 0)),
                )
            )
    return rows


def _processor_names(today) -> str:
    operator = legal.operator_get()
    providers = legal.subprocessors_in_effect(today, customer_data_only=True)
    names = [operator.name or _("the operator of the Termino platform")]
    return ", ".join(names + [p.name for p in providers])


def _third_countries(today) -> list[str]:
    return [
        f"{p.name}: {p.location} ({p.safeguards})"
        for p in legal.subprocessors_in_effect(today, customer_data_only=True)
        if p.safeguards
    ]


def _processing_record(tenant) -> Document:
    today = _today(tenant)
    rules = BusinessSettings.current()
    policy = _policy()
    services = list(Service.objects.filter(active=True).order_by("name"))
    online = [s for s in services if s.bookable_online]
    acceptance = legal.dpa_acceptance_latest(tenant)
    processors = _processor_names(today)
    transfers = _third_countries(today)
    retention = bullets(facts.business_retention_rules(policy))
    transfer_text = "; ".join(transfers) if transfers else _("none")
    tom_text = (
        _("See annex 2 of the data-processing agreement (version %(number)d, accepted on %(date)s).")
        % {
            "number": acceptance.version.number,
            "date": formats.date_format(acceptance.accepted_at, "DATE_FORMAT"),
        }
        if acceptance
        else _("See annex 2 of the data-processing agreement with the platform.")
    )

    def activity(purpose, basis, subjects, data, recipients, extra=()):
        return (
            fields(
                (
                    (_("Purposes"), purpose),
                    (_("Legal basis"), basis),
                    (_("Data subjects"), subjects),
                    (_("Categories of data"), data),
                    (_("Recipients"), recipients),
                    (_("Transfers to third countries"), transfer_text),
                    (_("Technical and organisational measures"), tom_text),
                )
            ),
            *extra,
        )

    team_recipients = _(
        "the business's team by role (see “Team logins and login records”); processors: %(names)s"
    ) % {"names": processors}
    sections = [
        Section(
            "booking",
            _("Appointments and online booking"),
            activity(
                _("Booking, managing and carrying out appointments; online booking on the booking page."),
                _("Art. 6(1)(b) GDPR (contract and steps before it)."),
                _("Customers and prospective customers."),
                _(
                    "Name, e-mail address, phone number; appointment (service, time, staff member, status); "
                    "notes."
                ),
                team_recipients,
                (
                    heading(_("Services offered for online booking")),
                    table(
                        (_("Service"), _("Duration"), _("Online")),
                        [
                            (
                                s.name,
                                ngettext("%(n)d minute", "%(n)d minutes", s.duration_minutes)
                                % {"n": s.duration_minutes},
                                _("yes") if s.bookable_online else _("no"),
                            )
                            for s in services
                        ],
                    )
                    if services
                    else para(_("No services are set up yet.")),
                    para(
                        ngettext(
                            "%(n)d of %(total)d service can be booked online.",
                            "%(n)d of %(total)d services can be booked online.",
                            len(services),
                        )
                        % {"n": len(online), "total": len(services)}
                        + " "
                        + (_("Bookings need approval by the team.") if rules.approval_required else "")
                        + (
                            " "
                            + _("The booking page is embedded on: %(sites)s.")
                            % {"sites": ", ".join(rules.origins)}
                            if rules.origins
                            else ""
                        )
                    ),
                    heading(_("Deletion periods")),
                    retention,
                ),
            ),
        ),
        Section(
            "messages",
            _("Confirmations and reminders to customers"),
            activity(
                _("Telling customers about their bookings and reminding them of appointments."),
                _("Art. 6(1)(b) GDPR for e-mails; Art. 6(1)(a) GDPR (consent) for SMS."),
                _("Customers who gave an e-mail address, and for SMS, who consented."),
                _(
                    "Name, e-mail address or mobile number, appointment details, the message text and its "
                    "delivery status."
                ),
                _("Processors: %(names)s") % {"names": processors},
                (
                    table(
                        (_("Message"), _("Channel"), _("Text"), _("Sent in the last 12 months")),
                        _message_rows(tenant, today),
                    ),
                    bullets(_message_summary(rules)),
                    *(
                        [para(_("SMS sender name: %(sender)s") % {"sender": rules.sms_sender_id})]
                        if rules.sms_sender_id
                        else []
                    ),
                ),
            ),
        ),
        Section(
            "crm",
            _("Customer records"),
            activity(
                _(
                    "Keeping a record of customers, their appointment history, notes, tags and consents; CSV "
                    "import and export."
                ),
                _(
                    "Art. 6(1)(b) and (f) GDPR (serving customers; our interest in a customer record); "
                    "consents Art. 7."
                ),
                _("Customers."),
                _("Name, contact details, notes, tags, consents with version and time, appointment history."),
                team_recipients,
                (heading(_("Deletion periods")), retention),
            ),
        ),
        Section(
            "requests",
            _("Data-subject requests and audit trail"),
            activity(
                _(
                    "Answering requests for access, erasure, restriction and objection; proving who saw or "
                    "changed personal data."
                ),
                _("Art. 6(1)(c) GDPR with Art. 12–21 and Art. 5(2) GDPR."),
                _("Customers; the business's team (as actors in the audit trail)."),
                _(
                    "The request, its confirmation, the answer; who viewed, exported, changed or erased "
                    "which record and when."
                ),
                _("Owner and managers; processors: %(names)s") % {"names": processors},
            ),
        ),
        Section(
            "team",
            _("Team logins and login records"),
            activity(
                _("Access to the backoffice by role; protecting the logins against misuse."),
                _("Art. 6(1)(b) and (f) GDPR (the working relationship; protecting the logins)."),
                _("The business's team members."),
                _(
                    "Name, e-mail address (login), password hash, role; time, IP address, browser and "
                    "outcome of every login."
                ),
                _("The owner (login history); processors: %(names)s") % {"names": processors},
                (
                    table((_("Role"), _("People"), _("Access")), _team_rows()),
                    para(facts.business_rule_texts()["login_ip_days"](policy.login_ip_days) + "."),
                ),
            ),
        ),
        Section(
            "processors",
            _("Processors"),
            (
                *legal.processor_blocks(today),
                para(
                    _("Data-processing agreement: version %(number)d accepted on %(date)s by %(who)s.")
                    % {
                        "number": acceptance.version.number,
                        "date": formats.date_format(acceptance.accepted_at, "DATE_FORMAT"),
                        "who": acceptance.user_name or acceptance.username,
                    }
                    if acceptance
                    else _("The data-processing agreement with the platform has not been accepted yet.")
                ),
                *(
                    []
                    if acceptance
                    else [warning(_("Accept the data-processing agreement under Data protection."))]
                ),
            ),
        ),
    ]
    intro = (
        fields(
            [
                (_("Controller"), ", ".join(v for _k, v in _controller_rows(tenant)[:2])),
                *_controller_rows(tenant)[2:],
                (_("As of"), formats.date_format(today, "DATE_FORMAT")),
            ]
        ),
        warning(
            _(
                "If you have appointed a data-protection officer, add their name and contact details; and "
                "add any processing you do outside Termino (e.g. accounting)."
            )
        ),
    )
    return Document(
        title=_("Record of processing activities of %(name)s") % {"name": tenant.name},
        language=translation.get_language(),
        intro=intro,
        sections=tuple(sections),
        labels=_labels(),
    )
