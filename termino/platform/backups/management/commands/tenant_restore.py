import getpass
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from termino.platform.backups import services
from termino.platform.backups.models import BusinessExport
from termino.platform.tenancy.transfer import TransferError, restore_plan


class Command(BaseCommand):
    help = (
        "Put one business back as it was in an export of itself (tenant_export, e.g. from a backup restored "
        "into a scratch server, or a stored nightly copy), in place: other businesses are not touched; its "
        "address, domains, Stripe ids and logins stay as they are now; erasures made since are re-applied. A "
        "full copy of the business as it is now is kept first, so the restore can be undone. Asks to confirm "
        "by typing the business's address (or pass --yes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the business's address (or its schema name)")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", help="a ZIP written by tenant_export")
        source.add_argument("--export", type=int, help="the id of a stored export (see --list)")
        source.add_argument(
            "--list", dest="show_list", action="store_true", help="list the business's stored exports"
        )
        parser.add_argument(
            "--logins",
            choices=["live", "file"],
            default="live",
            help="keep the logins as they are now (default) or take them from the file",
        )
        parser.add_argument("--reason", default="", help="why (goes into the platform log)")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--quiet", action="store_true", help="print nothing but errors")

    def handle(self, *args, slug, file, export, show_list, logins, reason, yes, quiet, **options):
        from termino.platform.tenancy.models import Tenant

        tenant = Tenant.objects.filter(slug=slug).first() or Tenant.objects.filter(schema_name=slug).first()
        if tenant is None or tenant.slug is None:
            raise CommandError(f"no business with the address {slug!r}")
        if show_list:
            for item in BusinessExport.objects.filter(tenant=tenant):
                self.stdout.write(
                    f"{item.pk:>6}  {item.kind:<12} {item.created_at:%Y-%m-%d %H:%M} UTC  "
                    f"{item.rows:>8} rows  kept until {item.expires_at:%Y-%m-%d}"
                )
            return
        stored = None
        if export is not None:
            stored = BusinessExport.objects.filter(pk=export, tenant=tenant).first()
            if stored is None:
                raise CommandError(f"business {slug} has no stored export {export}")
        say = None if quiet else self.stdout.write
        try:
            if stored is not None:
                with services.export_opened(stored) as plain:
                    plan = restore_plan(path=plain, slug=tenant.schema_name)
            else:
                plan = restore_plan(path=Path(file), slug=tenant.schema_name)
        except TransferError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            self.stdout.write(
                f"Restore {tenant.name} ({tenant.slug}) to the export made {plan.made_at} "
                f"(from database {plan.source_database or '?'}); logins: {logins}."
            )
            self.stdout.write("Rows that change (now → after):")
            for table, now, after in plan.changed():
                self.stdout.write(f"  {table:<40} {now:>8} → {after}")
            self.stdout.write(
                "Everything the business did after that time is replaced (a copy is kept first)."
            )
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("confirm with --yes when not running in a terminal")
            typed = input(f"Type the address {tenant.slug} to restore it: ").strip()
            if typed != tenant.slug:
                raise CommandError("not confirmed; nothing was changed")
        try:
            result = services.business_restore(
                tenant=tenant,
                export=stored,
                path=Path(file) if file else None,
                logins=logins,
                reason=reason or "restore from the command line",
                operator=getpass.getuser(),
                progress=say,
            )
        except TransferError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            for note in result.notes:
                self.stdout.write(self.style.WARNING(f"Note: {note}"))
            self.stdout.write(
                self.style.SUCCESS(
                    f"Restored {tenant.slug} ({result.schema}): {result.tables} tables, {result.rows} rows "
                    f"in {result.seconds:.1f} s; erasures re-applied: {len(result.erasures_reapplied)}."
                )
            )
