"""Federated sign-in per client: a real OpenID Connect provider (oidc-provider-mock, built on authlib)
runs on loopback; our views and mozilla-django-oidc's backend talk to it over HTTP."""

from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from portal360 import oidc
from portal360.models import ClientFederation
from tests.factories import UserFactory


@pytest.fixture(scope="module")
def provider():
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def federation(ledger, provider, monkeypatch):
    monkeypatch.setenv("FJORD_OIDC_SECRET", "s3cret")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    oidc._DISCOVERY.clear()
    return ClientFederation.objects.create(client=ledger.client, enabled=True, slug="fjord", label="Fjord ID",
                                           issuer=provider, oidc_client_id="ledger-360",
                                           secret_env="FJORD_OIDC_SECRET")  # fmt: skip


def authorize_at_provider(authorize_url: str, sub: str, email: str) -> str:
    """What the user does at their company's sign-in page: the provider redirects back with a code."""
    parts = urlparse(authorize_url)
    base = f"{parts.scheme}://{parts.netloc}"
    httpx.put(f"{base}/users/{sub}", json={"email": email, "email_verified": True}).raise_for_status()
    answer = httpx.post(authorize_url, data={"sub": sub, "action": "allow"})
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def test_a_federated_user_signs_in_without_our_code(client, ledger, federation):
    user = UserFactory(username="fed", client=ledger.client, email="Olivia@FjordKraft.no")
    start = client.get("/360/sso/fjord/")
    assert start.status_code == 302
    query = parse_qs(urlparse(start["Location"]).query)
    assert query["client_id"] == ["ledger-360"] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/360/sso/callback/"]

    back = authorize_at_provider(start["Location"], "olivia-sub", "olivia@fjordkraft.no")
    callback = urlparse(back)
    done = client.get(callback.path, parse_qs(callback.query))
    assert done.status_code == 302 and done["Location"] == "/360/"
    page = client.get("/360/")
    assert page.status_code == 200 and int(client.session["_auth_user_id"]) == user.pk


def test_an_unknown_or_other_clients_email_is_refused(client, ledger, other_ledger, federation):
    UserFactory(username="stranger", client=other_ledger.client, email="anna@other.se")
    start = client.get("/360/sso/fjord/")
    back = urlparse(authorize_at_provider(start["Location"], "anna-sub", "anna@other.se"))
    done = client.get(back.path, parse_qs(back.query))
    assert done["Location"] == "/360/login/?federation=failed"
    assert "_auth_user_id" not in client.session
    assert b"did not succeed" in client.get(done["Location"]).content


def test_a_tampered_state_is_refused(client, ledger, federation):
    UserFactory(username="fed", client=ledger.client, email="olivia@fjordkraft.no")
    start = client.get("/360/sso/fjord/")
    back = urlparse(authorize_at_provider(start["Location"], "olivia-sub", "olivia@fjordkraft.no"))
    query = {k: v[0] for k, v in parse_qs(back.query).items()} | {"state": "forged"}
    answer = client.get(back.path, query)
    assert "_auth_user_id" not in client.session
    assert answer.status_code in (302, 400)


def test_federation_is_off_unless_enabled(client, federation):
    federation.enabled = False
    federation.save()
    assert client.get("/360/sso/fjord/").status_code == 404
    assert client.get("/360/sso/nobody/").status_code == 404
