from django.core.management.base import BaseCommand, CommandError

from termino.platform.tenancy.transfer import TransferError, tenant_export


class Command(BaseCommand):
    help = (
        "Export one business (its schema, its platform rows and its uploaded files) to a file that "
        "tenant_import loads into another database running the same Termino version. One consistent "
        "snapshot: changes made after it are not in the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the business's address (or its schema name)")
        parser.add_argument("file", help="where to write the export (a ZIP file)")
        parser.add_argument("--force", action="store_true", help="overwrite the file if it exists")
        parser.add_argument("--quiet", action="store_true", help="print nothing but errors")

    def handle(self, *args, slug: str, file: str, force: bool, quiet: bool, **options):
        progress = None if quiet else self.stdout.write
        try:
            result = tenant_export(slug=slug, path=file, force=force, progress=progress)
        except TransferError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Exported {slug} ({result.schema}): {result.tables} tables, {result.rows} rows, "
                    f"{result.media_files} media file(s), {result.data_bytes / 1e6:.1f} MB of data in a "
                    f"{result.file_bytes / 1e6:.1f} MB file, {result.seconds:.1f} s → {result.path}"
                )
            )
            self.stdout.write(
                "The business stays open here: what changes after this snapshot is not in the file. "
                "Once the import has succeeded elsewhere, delete it here."
            )
