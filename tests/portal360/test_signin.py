"""Sign-in: password, then the one-time code (e-mail or SMS), asked again after the client's period and
on a new device; lockout; password reset; idle sessions; CSRF; the admin for our staff only."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.utils import timezone

from ledger.models import SecondFactorChannel
from portal360.services import DEVICE_COOKIE
from tests.factories import UserFactory

PASSWORD = "correct horse battery 42"


@pytest.fixture
def user(operator):
    operator.set_password(PASSWORD)
    operator.save()
    return operator


def password_step(client, username="olivia", password=PASSWORD, next_url=""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/360/login/", data)


def mailed_code() -> str:
    return re.search(r"(\d{6}) is your sign-in code", mail.outbox[-1].body).group(1)


def test_password_then_code_by_email_signs_in(client, user):
    answer = password_step(client, next_url="/360/customers/")
    assert answer.status_code == 302 and answer["Location"].startswith("/360/login/code/")
    # Signed in with the password only, nothing of 360 opens yet.
    assert client.get("/360/")["Location"].startswith("/360/login/code/")
    page = client.get(answer["Location"])
    assert page.status_code == 200 and b"o\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2@example.no" in page.content
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["operator@example.no"]
    client.get(answer["Location"])  # a reload sends no second code
    assert len(mail.outbox) == 1

    wrong = client.post("/360/login/code/", {"code": "000000" if mailed_code() != "000000" else "111111"})
    assert wrong.status_code == 200 and b"wrong or has expired" in wrong.content
    # Throttled after a failure: the right code is refused until the delay has passed.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        done = client.post("/360/login/code/", {"code": mailed_code(), "next": "/360/customers/"})
        assert done.status_code == 302 and done["Location"] == "/360/customers/"
        assert DEVICE_COOKIE in done.cookies
        assert client.get("/360/").status_code == 200


def test_wrong_password_gives_no_code_and_a_clear_error(client, user):
    answer = password_step(client, password="nope")
    assert answer.status_code == 200 and b"Please enter a correct username and password" in answer.content
    assert mail.outbox == []


def test_code_by_sms_through_the_sms_gateway(client, user, data_dir):
    user.second_factor_channel, user.phone = SecondFactorChannel.SMS, "+4791234567"
    user.save()
    client.get(password_step(client)["Location"])
    [sms] = list((data_dir / "sms").glob("signin-*.json"))
    message = json.loads(sms.read_text())
    assert message["to"] == "+4791234567"
    code = re.search(r"(\d{6}) is your sign-in code", message["text"]).group(1)
    assert client.post("/360/login/code/", {"code": code}).status_code == 302
    assert client.get("/360/").status_code == 200


def test_a_user_without_address_or_number_is_told_to_ask_their_administrator(client, user):
    user.second_factor_channel, user.phone = SecondFactorChannel.SMS, ""
    user.save()
    page = client.get(password_step(client)["Location"])
    assert page.status_code == 403 and b"client administrator" in page.content
    assert client.get("/360/")["Location"].startswith("/360/login/")


def sign_in_fully(client):
    client.get(password_step(client)["Location"])
    answer = client.post("/360/login/code/", {"code": mailed_code()})
    assert answer.status_code == 302
    return answer


def test_the_code_is_asked_again_after_the_clients_period(client, user, settings):
    settings.SESSION_COOKIE_AGE = 3 * 24 * 3600  # a session kept alive all along: the period still ends it
    user.client.second_factor_hours = 2
    user.client.save()
    sign_in_fully(client)
    assert client.get("/360/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=59)):
        assert client.get("/360/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        answer = client.get("/360/")
        assert answer.status_code == 302 and answer["Location"].startswith("/360/login/code/")
        mail.outbox.clear()
        client.get(answer["Location"])
        assert client.post("/360/login/code/", {"code": mailed_code()}).status_code == 302
        assert client.get("/360/").status_code == 200


def test_an_idle_session_ends(client, user):
    sign_in_fully(client)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert client.get("/360/")["Location"].startswith("/360/login/?next=")


def test_a_known_device_skips_the_code_within_the_period_and_a_new_one_does_not(client, user):
    sign_in_fully(client)
    client.post("/360/logout/")
    mail.outbox.clear()
    # Same browser (the device cookie is kept): password only.
    answer = password_step(client)
    assert answer.status_code == 302 and answer["Location"] == "/360/"
    assert client.get("/360/").status_code == 200 and mail.outbox == []

    other_browser = Client()
    answer = password_step(other_browser)
    assert answer["Location"].startswith("/360/login/code/")
    other_browser.get(answer["Location"])
    assert len(mail.outbox) == 1

    # Another user's device cookie counts for nothing.
    UserFactory(username="sam", client=user.client, email="sam@example.no").set_password(PASSWORD)
    sam = type(user).objects.get(username="sam")
    sam.set_password(PASSWORD)
    sam.save()
    client.post("/360/logout/")
    assert password_step(client, username="sam")["Location"].startswith("/360/login/code/")

    with time_machine.travel(timezone.now() + timedelta(hours=13)):
        client.post("/360/logout/")
        assert password_step(client)["Location"].startswith("/360/login/code/")


def test_lockout_after_the_configured_number_of_failures(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        password_step(client, password="wrong")
    locked = password_step(client)  # the right password, too late
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.content
    assert AccessAttempt.objects.filter(username="olivia").exists()
    assert mail.outbox == []
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert password_step(client)["Location"].startswith("/360/login/code/")


def test_password_reset_by_email(client, user):
    answer = client.post("/360/password-reset/", {"email": "operator@example.no"})
    assert answer.status_code == 302
    link = re.search(r"http://testserver(/360/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert b"Set a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a new long secret 77", "new_password2": "a new long secret 77"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a new long secret 77")
    assert user.password.startswith("argon2")


def test_every_360_page_needs_a_signed_in_user(client, ledger):
    for url in ["/360/", "/360/customers/?q=x", f"/360/l/{ledger.company_no}/customers/1/", "/360/services/"]:
        answer = client.get(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/360/login/?next="), url
    assert client.get("/")["Location"] == "/360/login/"


def test_forms_need_the_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/360/login/", {"username": "olivia", "password": PASSWORD}).status_code == 403


def test_sessions_expire_when_idle_and_cookies_are_secure_without_debug(settings):
    from django.conf import settings as live

    assert live.SESSION_SAVE_EVERY_REQUEST is True
    assert live.SESSION_COOKIE_AGE == 30 * 60
    assert live.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    # DEBUG is on in tests; production (DJANGO_DEBUG=0) turns the cookie flags on: see settings.py.
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='payex_ledger.settings';"
         "from django.conf import settings as s;print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"],
        env={**__import__("os").environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 50},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.split() == ["True", "True", "True"]


def test_next_cannot_send_the_user_to_another_site(client, user):
    client.get(password_step(client, next_url="https://evil.example/")["Location"])
    answer = client.post("/360/login/code/", {"code": mailed_code(), "next": "https://evil.example/"})
    assert answer["Location"] == "/360/"
