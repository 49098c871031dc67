"""Writes of the invoice portal. The customer's actions go through the ledger's own services (dispute,
respite, customer update, payments import), so operators see them where they see everything else: the
complaints worklist, the invoice's events, the Customer Journal, the journal itself."""

import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from distribution.models import PortalLink
from ledger.errors import InvalidTransition, NotFound, ValidationFailed
from ledger.models import (
    ConsentKind,
    Customer,
    CustomerEvent,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    Ledger,
    Payment,
)
from ledger.payments.bank_import import payments_import
from ledger.payments.bankfiles.write import PaymentSpec, write_camt054
from ledger.payments.direct_debit.autogiro import autogiro_mandate_request
from ledger.selectors import invoice_balance
from ledger.services.customers import customer_upsert
from ledger.services.respite_dispute import invoice_dispute_open, invoice_respite_set

from .models import (
    DirectDebitSignup,
    ProviderPayment,
    ProviderPaymentStatus,
    RespiteRequest,
    RespiteStatus,
    SignupStatus,
)
from .selectors import DIRECT_DEBIT_KIND, portal_settings, respite_start


def customer_actor(customer: Customer) -> str:
    """Who the operators see as the author of a customer's action."""
    return f"customer {customer.customer_no} (invoice portal)"


# --- Customer actions -------------------------------------------------------------------------------


def _require_open(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.CLOSED:
        raise InvalidTransition(f"invoice {invoice.invoice_no} is closed", code="invoice_closed")


def portal_dispute(*, invoice: Invoice, customer: Customer, message: str) -> Invoice:
    """The customer disputes the invoice: the claim stops and it lands in the complaints worklist."""
    message = (message or "").strip()
    if not message:
        raise ValidationFailed("say what is wrong with the invoice", code="message_required", field="message")
    if len(message) > 450:
        raise ValidationFailed("at most 450 characters", code="message_too_long", field="message")
    with transaction.atomic():
        return invoice_dispute_open(
            invoice=invoice, actor=customer_actor(customer), reason=f"Customer via invoice portal: {message}"
        )


def portal_respite_request(
    *, invoice: Invoice, customer: Customer, days: int, message: str = "", as_of: date | None = None
) -> RespiteRequest:
    """Up to the client's automatic limit the respite is set at once; longer (up to its maximum) waits
    for an operator in the respite worklist; longer still is refused."""
    ledger = invoice.ledger
    as_of = as_of or ledger.today()
    limits = portal_settings(ledger=ledger)
    if not isinstance(days, int) or days < 1:
        raise ValidationFailed("choose how many days", code="respite_days_invalid", field="days")
    if days > limits.respite_max_days:
        raise ValidationFailed(
            f"a respite of at most {limits.respite_max_days} days can be asked for here",
            code="respite_too_long",
            field="days",
        )
    actor = customer_actor(customer)
    message = (message or "").strip()[:450]
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _require_open(locked)
        if locked.status == InvoiceStatus.DISPUTED:
            raise InvalidTransition(
                "the invoice is disputed: no respite while it is handled", code="invoice_disputed"
            )
        if RespiteRequest.objects.filter(invoice=locked, status=RespiteStatus.PENDING).exists():
            raise InvalidTransition("a respite request is already waiting", code="respite_request_pending")
        until = respite_start(invoice=locked, as_of=as_of) + timedelta(days=days)
        if days <= limits.respite_auto_days:
            invoice_respite_set(
                invoice=locked,
                until=until,
                actor=actor,
                reason=f"Respite of {days} days asked for in the invoice portal, within the client's "
                f"{limits.respite_auto_days} days: granted" + (f". {message}" if message else ""),
                booking_date=as_of,
            )
            status = RespiteStatus.APPROVED
        else:
            # The invoice's event says a request waits; the worklist is RespiteRequest (pending).
            InvoiceEvent.objects.create(
                ledger_id=locked.ledger_id,
                invoice=locked,
                kind="respite_requested",
                from_status=locked.status,
                to_status=locked.status,
                booking_date=as_of,
                reason=(f"Respite until {until.isoformat()} ({days} days) asked for in the invoice portal: "
                        f"waits for an operator" + (f". {message}" if message else ""))[:500],
                actor=actor,
            )  # fmt: skip
            status = RespiteStatus.PENDING
        return RespiteRequest.objects.create(
            ledger_id=locked.ledger_id,
            invoice=locked,
            customer=customer,
            until=until,
            days=days,
            message=message,
            status=status,
            decided_at=timezone.now() if status == RespiteStatus.APPROVED else None,
            decided_by="automatic (client's rule)" if status == RespiteStatus.APPROVED else "",
        )


def respite_request_decide(
    *, request: RespiteRequest, grant: bool, actor, reason: str = ""
) -> RespiteRequest:
    """An operator grants (the respite is set) or refuses a waiting request."""
    with transaction.atomic():
        request = RespiteRequest.objects.select_for_update().select_related("invoice").get(pk=request.pk)
        if request.status != RespiteStatus.PENDING:
            raise InvalidTransition(f"respite request {request.pk} is {request.status}", code="not_pending")
        if grant:
            invoice_respite_set(
                invoice=request.invoice,
                until=request.until,
                actor=actor,
                reason=reason or "respite asked for in the invoice portal, granted",
            )
        request.status = RespiteStatus.GRANTED if grant else RespiteStatus.REFUSED
        request.decided_at = timezone.now()
        request.decided_by = str(getattr(actor, "username", actor))[:150]
        request.save(update_fields=["status", "decided_at", "decided_by"])
    return request


def portal_contact_update(*, customer: Customer, email: str, phone: str) -> Customer:
    """The customer's new e-mail and phone, through customer_upsert, recorded as a customer event with the
    old and new values (the Customer Journal)."""
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    email, phone = (email or "").strip(), "".join((phone or "").split())
    if len(email) > 254:  # the column's limit (RFC 5321 paths are at most 256 with the brackets)
        raise ValidationFailed("that is not an e-mail address", code="email_invalid", field="email")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError as exc:
            raise ValidationFailed(
                "that is not an e-mail address", code="email_invalid", field="email"
            ) from exc
    if phone and (len(phone) > 20 or not phone.lstrip("+").isdigit() or len(phone.lstrip("+")) < 6):
        raise ValidationFailed(
            "a phone number is digits, optionally with + first", code="phone_invalid", field="phone"
        )
    if not email and not phone:
        raise ValidationFailed(
            "give an e-mail address or a phone number", code="contact_required", field="email"
        )
    from ledger.services.customers import customer_fields

    with transaction.atomic():
        current = Customer.objects.select_for_update().get(pk=customer.pk)
        old = {"email": current.email, "phone": current.phone}
        new = {"email": email, "phone": phone}
        if old == new:
            return current
        fields = {**customer_fields(current), **new}
        updated = customer_upsert(
            ledger=current.ledger, actor=customer_actor(current), customer_no=current.customer_no, **fields
        )
        CustomerEvent.objects.create(
            ledger_id=current.ledger_id,
            customer=current,
            kind="contact_changed",
            booking_date=current.ledger.today(),
            old_value={k: v for k, v in old.items() if old[k] != new[k]},
            new_value={k: v for k, v in new.items() if old[k] != new[k]},
            reason="changed by the customer in the invoice portal",
            actor=customer_actor(current),
        )
    return updated


# --- Pay now ----------------------------------------------------------------------------------------


def provider_payment_start(
    *, link: PortalLink, invoice: Invoice, provider: str, method: str
) -> ProviderPayment:
    """A payment of what is open now, handed to a provider. The amount is fixed here: the provider
    charges exactly this and we book what it confirms."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _require_open(locked)
        if locked.customer_id != link.customer_id or locked.ledger_id != link.ledger_id:
            raise NotFound("no such invoice on this link", code="invoice_not_found")
        amount = invoice_balance(locked).open_amount
        if amount <= 0:
            raise InvalidTransition("nothing to pay on this invoice", code="nothing_to_pay")
        return ProviderPayment.objects.create(
            ledger_id=locked.ledger_id,
            invoice=locked,
            customer_id=locked.customer_id,
            link=link,
            provider=provider,
            method=method,
            provider_ref=f"{provider.upper()}-{secrets.token_hex(10)}",
            amount=amount,
            currency=locked.currency,
        )


def provider_payment_complete(
    *, provider_ref: str, status: str, amount: Decimal | None = None
) -> ProviderPayment:
    """The provider's word on a payment. "paid" books it as a payment through the bank-file path (a
    one-payment camt.054 settlement notice, archive reference = the provider's reference): matched by
    the invoice's KID/OCR, allocated in the ledger's order, the invoice closed when nothing is left.
    Idempotent: a second notice for the same reference books nothing."""
    with transaction.atomic():
        payment = (
            ProviderPayment.objects.select_for_update()
            .select_related("ledger", "invoice")
            .filter(provider_ref=provider_ref)
            .first()
        )
        if payment is None:
            raise NotFound(f"unknown payment {provider_ref}", code="provider_payment_not_found")
        if payment.status != ProviderPaymentStatus.STARTED:
            return payment  # already settled one way or the other: the same answer again
        if status in ("cancelled", "failed"):
            payment.status = status
            payment.completed_at = timezone.now()
            payment.save(update_fields=["status", "completed_at"])
            return payment
        if status != "paid":
            raise ValidationFailed(f"unknown provider status {status!r}", code="provider_status_invalid")
        if amount is not None and amount != payment.amount:
            raise ValidationFailed(
                f"the provider confirmed {amount}, {payment.amount} was asked for",
                code="provider_amount_mismatch",
            )
        ledger: Ledger = payment.ledger
        if not ledger.client_funds_account:
            raise ValidationFailed(
                f"ledger {ledger.company_no} has no client-funds account to book payments on",
                code="no_client_funds_account",
            )
        day = ledger.today()
        data = write_camt054(
            [
                PaymentSpec(
                    reference=payment.invoice.payment_ref,
                    amount=payment.amount,
                    payer_name=f"{payment.method} {payment.provider_ref}",
                    text=f"{payment.method} payment in the invoice portal",
                    archive_ref=payment.provider_ref,
                )
            ],
            receiving_account=ledger.client_funds_account,
            booking_date=day,
            currency=payment.currency,
            msg_id=payment.provider_ref[:35],
        )
        summary = payments_import(
            data=data,
            file_name=f"{payment.provider}-{payment.provider_ref}.xml",
            company_no=ledger.company_no,
            format="camt054",
            actor=f"{payment.provider} (payment provider)",
        )
        if summary.get("status") != "accepted" or summary.get("payments") != 1:
            raise ValidationFailed(
                f"the payment could not be booked: {summary.get('errors')}",
                code="provider_payment_not_booked",
            )
        payment.payment = Payment.objects.get(ledger=ledger, bank_archive_ref=payment.provider_ref)
        payment.status = ProviderPaymentStatus.PAID
        payment.completed_at = timezone.now()
        payment.save(update_fields=["payment", "status", "completed_at"])
    return payment


# --- Direct debit sign-up ---------------------------------------------------------------------------


def direct_debit_signup_start(*, ledger: Ledger, return_url: str) -> DirectDebitSignup:
    kind = DIRECT_DEBIT_KIND.get(ledger.country)
    if kind is None:
        raise ValidationFailed(
            f"direct debit is not offered for ledgers in {ledger.country}", code="direct_debit_not_offered"
        )
    with transaction.atomic():
        return DirectDebitSignup.objects.create(
            state=secrets.token_urlsafe(32), ledger=ledger, kind=kind, return_url=return_url
        )


def direct_debit_signup_identified(
    *, signup: DirectDebitSignup, national_id: str, provider: str
) -> DirectDebitSignup:
    """The identity provider vouched for this national id: find the customer it is at this ledger."""
    with transaction.atomic():
        signup = DirectDebitSignup.objects.select_for_update().get(pk=signup.pk)
        if signup.status != SignupStatus.STARTED:
            raise InvalidTransition("this sign-up is already past identification", code="signup_not_started")
        signup.national_id = national_id
        signup.identity_provider = provider
        customer = (
            Customer.objects.filter(ledger_id=signup.ledger_id, national_id__in=_national_id_forms(national_id))
            .order_by("id")
            .first()
        )
        if customer is None:
            signup.status = SignupStatus.FAIL
            signup.error = "no customer with this identity at the client"
            signup.completed_at = timezone.now()
        else:
            signup.customer = customer
            signup.status = SignupStatus.IDENTIFIED
        signup.save()
    return signup


def _national_id_forms(national_id: str) -> list[str]:
    """The ways a file or a form writes the number an identity provider gives (19811228-9874 is also
    198112289874, 811228-9874 and 8112289874): a customer is found whichever the client sent."""
    digits = "".join(ch for ch in national_id if ch.isdigit())
    forms = {national_id, digits}
    for number in (digits, digits[2:] if len(digits) == 12 else ""):
        if len(number) in (10, 12):
            forms.add(f"{number[:-4]}-{number[-4:]}")
            forms.add(number)
    return sorted(f for f in forms if f)


def _valid_account(ledger: Ledger, account: str) -> str:
    digits = "".join(ch for ch in account if ch.isdigit())
    if ledger.country == "NO":
        from stdnum.no import kontonr

        if not kontonr.is_valid(digits):
            raise ValidationFailed(
                "not a Norwegian account number (11 digits)", code="account_invalid", field="account"
            )
        return digits
    if ledger.country == "SE":
        # Clearing number (4-5 digits) and account: the bank checks the rest.
        if not 9 <= len(digits) <= 16:
            raise ValidationFailed(
                "clearing and account number, 9-16 digits", code="account_invalid", field="account"
            )
        return digits
    if not 10 <= len(digits) <= 14:  # DK: reg. no (4) + account (up to 10)
        raise ValidationFailed("registration and account number", code="account_invalid", field="account")
    return digits


def direct_debit_signup_complete(
    *, signup: DirectDebitSignup, account: str, amount_limit: str = ""
) -> DirectDebitSignup:
    """Give the consent through customers_upsert, as a CUSIN payment rule or an agreement file would:
    the consent is active (Customer Journal: consent_activated, with this source), and the next
    send_debit_claims run claims the customer's invoices in the scheme's claim file."""
    with transaction.atomic():
        signup = (
            DirectDebitSignup.objects.select_for_update(of=("self",))
            .select_related("ledger", "customer")
            .get(pk=signup.pk)
        )
        if signup.status != SignupStatus.IDENTIFIED:
            raise InvalidTransition("identify first", code="signup_not_identified")
        ledger = signup.ledger
        signup.bank_account = _valid_account(ledger, account or "")
        limit = None
        if amount_limit.strip():
            try:
                limit = Decimal(amount_limit.strip().replace(" ", "").replace(",", "."))
            except ArithmeticError as exc:
                raise ValidationFailed(
                    "the limit is an amount", code="amount_invalid", field="amount_limit"
                ) from exc
            if not limit.is_finite() or limit <= 0 or limit >= Decimal("1000000"):
                raise ValidationFailed("the limit is an amount", code="amount_invalid", field="amount_limit")
        from ledger.services.customers import CustomerInput, customer_fields, customers_upsert

        customer = signup.customer
        source = f"invoice portal sign-up ({signup.identity_provider})"
        if signup.kind == ConsentKind.AUTOGIRO_SE:
            # Bankgirot keeps the mandates: it gets a new-mandate record in the next transmission, and
            # the consent is active once its mandate notice approves it (ledger.payments.direct_debit.autogiro).
            autogiro_mandate_request(customer=customer, account=signup.bank_account, national_id=signup.national_id,
                                     source=source, booking_date=ledger.today())  # fmt: skip
        else:
            customers_upsert(
                ledger=ledger,
                customers=[
                    CustomerInput(
                        customer_no=customer.customer_no,
                        consents={signup.kind: True},
                        **customer_fields(customer),
                    )
                ],
                actor=customer_actor(customer),
                source=source,
            )
        signup.amount_limit = limit
        signup.status = SignupStatus.SUCCESS
        signup.completed_at = timezone.now()
        signup.save()
    return signup


def direct_debit_signup_cancel(*, signup: DirectDebitSignup) -> DirectDebitSignup:
    with transaction.atomic():
        signup = DirectDebitSignup.objects.select_for_update().get(pk=signup.pk)
        if signup.status in (SignupStatus.STARTED, SignupStatus.IDENTIFIED):
            signup.status = SignupStatus.CANCEL
            signup.completed_at = timezone.now()
            signup.save(update_fields=["status", "completed_at"])
    return signup
