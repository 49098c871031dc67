import json
import time

from django.core.management.base import CommandError
from django.db import close_old_connections

from cusin.inbox import inbox_scan
from ledger.management.base import JsonCommand


class Command(JsonCommand):
    help = (
        "Import complete CUSIN files from every sFTP inbox. With --once: one scan, its summary as JSON. "
        "Without: scan every --interval seconds until Ctrl-C, one JSON line per scan that found files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="scan once and exit")
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between scans (default 60)")

    def run(self, **o):
        if o["once"]:
            return inbox_scan(), True
        if o["interval"] <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        scans = failed = 0
        try:
            while True:
                close_old_connections()  # a database restart between scans is survived
                scans += 1
                try:
                    summary = inbox_scan()
                except Exception as exc:  # the watcher goes on; the exit code will tell
                    failed += 1
                    self._line({"ok": False, "error": {"code": type(exc).__name__, "message": str(exc)}})
                else:
                    if summary["files"]:
                        self._line(summary)
                time.sleep(o["interval"])
        except KeyboardInterrupt:
            pass
        return {"ok": failed == 0, "scans": scans, "failed_scans": failed}, failed == 0

    def _line(self, payload: dict) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False, default=str))
        self.stdout.flush()
