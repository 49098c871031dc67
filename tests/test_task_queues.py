"""Queues per job kind (payex_ledger/settings.py TASK_QUEUES): with CELERY_QUEUES_BY_KIND=1 each task
goes to its kind's queue, as docker-compose.yml's workers expect; without it, to the default queue."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ROUTE = (
    "import django, json; django.setup(); from django.conf import settings; from payex_ledger.celery import app; "
    "print(json.dumps({n: app.amqp.router.route({}, n)['queue'].name for n in settings.TASK_QUEUES}))"
)


def routes(by_kind: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "payex_ledger.settings", "DJANGO_DEBUG": "1",
           "CELERY_QUEUES_BY_KIND": by_kind}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", ROUTE], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_each_task_goes_to_its_kinds_queue_and_compose_has_a_worker_for_each():
    assert routes("1") == {"cusin.scan_inbox": "imports", "claims.run_daily": "daily", "businessday.work": "daily",
                           "distribution.distribute_documents": "distribution"}  # fmt: skip
    assert set(routes("").values()) == {"celery"}
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    consumed = set()
    for service in compose["services"].values():
        command = service.get("command") or []
        if "worker" in command and "-Q" in command:
            consumed |= set(command[command.index("-Q") + 1].split(","))
    assert consumed >= {"imports", "daily", "distribution", "celery"}
