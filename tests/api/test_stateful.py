"""Schemathesis's stateful run over the API (issue 29): sequences of calls chained by the links it infers
from the schema (a customer created, then read, changed, given consents; an invoice registered, then
read, credited, disputed, given a respite, written off; a payment read and allocated), each answer
checked as in test_schema.py: no 500, documented status, content type and body. After the sequences the
ledger passes every check of verify_ledger: no call sequence leaves the journal or a read model wrong."""

import json

import schemathesis
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, settings

from ledger.verify import ledger_verify
from tests.ledger.test_bankfiles_fuzz import EXAMPLES

from .conftest import token_for
from .test_schema import CHECKS, same_connection_wsgi


def test_chained_calls_get_no_500_and_leave_the_ledger_consistent(ledger):
    secret = token_for(ledger, write=True, rate_limit="100000/min")
    raw = Client().get("/api/schema/?format=json")
    schema = schemathesis.openapi.from_dict(json.loads(raw.content))
    headers = {"Authorization": f"Bearer {secret}"}
    calls = []

    with same_connection_wsgi() as app:

        class Workflow(schema.as_state_machine()):
            def before_call(self, case):
                case.headers = {**(case.headers or {}), **headers}  # a generated Authorization would replace ours
                if "{company_no}" in case.operation.path:  # the one ledger the token is for
                    case.path_parameters = {**(case.path_parameters or {}), "company_no": ledger.company_no}

            # Each example starts from the same database: with the rows of earlier examples still there, the
            # same calls could answer differently and hypothesis would find its rules flaky. Every example
            # leaves the ledger passing verify_ledger before it is rolled back.
            def setup(self):
                self.savepoint = transaction.savepoint()

            def teardown(self):
                problems = [c for c in ledger_verify(ledger=ledger) if not c["ok"]]
                transaction.savepoint_rollback(self.savepoint)
                assert problems == [], problems

            def get_call_kwargs(self, case):
                return {"app": app, "headers": headers}

            def after_call(self, response, case):
                calls.append((case.operation.label, response.status_code))

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                case.validate_response(response, checks=CHECKS, headers=headers)

        Workflow.run(settings=settings(
            max_examples=max(EXAMPLES // 5, 30), stateful_step_count=6, derandomize=True, database=None,
            deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck),
        ))  # fmt: skip

    created = {label for label, status in calls if label.startswith("POST") and status in (200, 201)}
    assert (
        "POST /api/v1/ledgers/{company_no}/customers/" in created
        or "POST /api/v1/ledgers/{company_no}/invoices/" in created
    ), calls
    assert [c for c in ledger_verify(ledger=ledger) if not c["ok"]] == []
