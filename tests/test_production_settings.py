"""Production is the default: DEBUG off unless asked for, `check --deploy` clean, a secret key required
on a server, and the product's own error pages and problem documents with debug off."""

import json
import os
import subprocess
import sys
from pathlib import Path

from api.exceptions import problem_exception_handler

ROOT = Path(__file__).resolve().parents[1]


def settings_of(env: dict, code: str) -> subprocess.CompletedProcess:
    """A fresh interpreter importing the production settings with exactly `env` (no test settings)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    base.update(env, DJANGO_SETTINGS_MODULE="payex_ledger.settings")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_debug_is_off_unless_asked_for(tmp_path):
    code = "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)"
    env = {"DJANGO_SECRET_KEY": "k" * 60, "LEDGER_DATA_DIR": str(tmp_path)}
    assert settings_of(env, code).stdout.split() == ["False", "True"]
    assert settings_of({**env, "DJANGO_DEBUG": "1"}, code).stdout.split() == ["True", "False"]


def test_a_server_without_a_secret_key_refuses_to_start(tmp_path):
    answer = settings_of(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test", "LEDGER_DATA_DIR": str(tmp_path)},
        "from django.conf import settings; settings.SECRET_KEY",
    )
    assert answer.returncode != 0 and "DJANGO_SECRET_KEY must be set" in answer.stderr


def test_an_installation_on_the_embedded_database_keeps_its_own_key(tmp_path):
    env = {"LEDGER_DATA_DIR": str(tmp_path)}
    env_without_db = {k: v for k, v in env.items()}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    saved = os.environ.pop("DATABASE_URL", None)
    try:
        first, second = settings_of(env_without_db, code), settings_of(env_without_db, code)
    finally:
        if saved is not None:
            os.environ["DATABASE_URL"] = saved
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    env = {"DJANGO_SECRET_KEY": "x9" * 30 + "-long-random", "DJANGO_ALLOWED_HOSTS": "ledger.example.com",
           "LEDGER_DATA_DIR": str(tmp_path)}  # fmt: skip
    answer = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}, **env,
             "DJANGO_SETTINGS_MODULE": "payex_ledger.settings"},  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "no issues" in answer.stdout


def test_an_unknown_url_shows_the_products_own_404_page(client, db, settings):
    settings.DEBUG = False
    answer = client.get("/no-such-page/")
    assert answer.status_code == 404
    page = answer.content.decode()
    assert "Page not found" in page and "Ledger Service" in page and 'href="/360/"' in page
    norwegian = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="nb")
    assert "Det finnes ingen side på denne adressen" in norwegian.content.decode()


def test_an_unexpected_api_error_is_a_problem_document_not_html():
    answer = problem_exception_handler(KeyError("receivable_capital"), {"request": None})
    assert answer.status_code == 500 and answer.content_type == "application/problem+json"
    assert answer.data["code"] == "internal_error" and "nothing was saved" in answer.data["detail"]


def test_the_favicon_is_there(client, db):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"].endswith("portal360/favicon.svg")
    from django.contrib.staticfiles import finders

    assert finders.find("portal360/favicon.svg")
    assert 'rel="icon"' in client.get("/360/login/").content.decode()


def test_the_500_handler_answers_the_api_in_problem_json_and_pages_with_the_products_page(rf):
    from api.exceptions import server_error

    api = server_error(rf.get("/api/v1/ledgers/1/invoices/"))
    assert api.status_code == 500 and api["Content-Type"] == "application/problem+json"
    assert json.loads(api.content)["code"] == "internal_error"
    page = server_error(rf.get("/360/"))
    assert page.status_code == 500 and b"Something went wrong on our side" in page.content


def test_every_answer_has_a_strict_content_security_policy(client, db):
    """Scripts and styles only from our origin, nothing inline, no framing: the 360 sign-in page, the portal,
    the API's docs and a problem answer alike (every browser test fails on a refused script or style)."""
    for url in ("/360/login/", "/p/", "/api/docs/", "/api/v1/ledgers/1/invoices/"):
        answer = client.get(url)
        policy = answer["Content-Security-Policy"]
        directives = dict((d.split(" ", 1) + [""])[:2] for d in (p.strip() for p in policy.split(";")) if d)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
        # the nonce only where a page uses one (the dashboard's charts: tests/portal360/test_dashboard_browser.py)
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", url
        assert directives["frame-ancestors"] == "'none'", url
        assert directives.get("object-src", directives["default-src"]) == "'none'", url  # the portal: all 'none' first
        assert answer["X-Frame-Options"] == "DENY", url
