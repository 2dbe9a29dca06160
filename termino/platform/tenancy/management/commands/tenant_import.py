from django.core.management.base import BaseCommand, CommandError

from termino.platform.tenancy.transfer import TransferError, tenant_import


class Command(BaseCommand):
    help = (
        "Import a business exported by tenant_export into this database, all or nothing: the file's "
        "checksums and migrations are verified first, and any failure leaves the database as it was."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a file written by tenant_export")
        parser.add_argument(
            "--slug", help="import under this address instead (custom domains are kept only if free here)"
        )
        parser.add_argument("--quiet", action="store_true", help="print nothing but errors")

    def handle(self, *args, file: str, slug: str | None, quiet: bool, **options):
        progress = None if quiet else self.stdout.write
        try:
            result = tenant_import(path=file, slug=slug, progress=progress)
        except TransferError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            for note in result.notes:
                self.stdout.write(self.style.WARNING(f"Note: {note}"))
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {result.tenant.slug} ({result.schema}, status {result.tenant.status}): "
                    f"{result.tables} tables, {result.rows} rows, {result.media_files} media file(s) in "
                    f"{result.seconds:.1f} s; reachable at {', '.join(result.domains)}"
                )
            )
