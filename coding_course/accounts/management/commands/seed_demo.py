from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from coding_course.accounts.services import demo_accounts_ensure


class Command(BaseCommand):
    help = "Create the demo organisation and one demo account per role (first run only)."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = demo_accounts_ensure()
        fresh = [account for account in accounts if account.password]
        if not fresh:
            self.stderr.write(
                "Demo accounts already exist (passwords unchanged; see demo-accounts.txt)."
            )
            return
        lines = [f"{a.role:<10} {a.username:<16} {a.password}" for a in fresh]
        # Kept beside the SQLite file so the passwords printed once can be found again;
        # the file is git-ignored.
        record = Path(settings.BASE_DIR) / "demo-accounts.txt"
        with record.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        self.stdout.write("Demo accounts (role, username, password):")
        for line in lines:
            self.stdout.write(f"  {line}")
        self.stdout.write(f"(also written to {record.name})")
