"""manage.py send_digests [--dry-run] [--all]: build and mail the digests of every reader who is due."""
from django.core.management.base import BaseCommand, CommandError

from webapp.library.digests import digests_send


class Command(BaseCommand):
    help = "Build, store and mail the digests of every reader who is due (beat runs this daily)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="show what each reader would get; store and mail nothing")
        parser.add_argument("--all", action="store_true", help="every reader with a library, due or not")

    def handle(self, *args, dry_run=False, all=False, **options):
        run = digests_send(dry_run=dry_run, force=all)
        if dry_run:
            for username, lines in run.preview:
                self.stdout.write(f"{username}: {len(lines)} line(s)")
                for line in lines:
                    self.stdout.write(f"  - {line}")
            self.stdout.write(f"dry run: {len(run.preview)} digest(s) would be built, "
                              f"{run.skipped} reader(s) have nothing new")
            return
        self.stdout.write(f"{len(run.built)} digest(s) built, {run.sent} mailed, {run.failed} could not be mailed, "
                          f"{run.skipped} reader(s) had nothing new")
        if run.failed:
            raise CommandError(f"{run.failed} digest mail(s) failed; they are kept and retried by the next run")
