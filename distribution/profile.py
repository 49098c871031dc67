"""A client administrator's distribution overrides: the document kinds always sent on paper to the
registered address (beyond those the law sends on paper), and how many years documents are kept.
Recorded as an AuditEvent (who, when, before, after); in effect at once for the next documents."""

from django.db import transaction

from ledger.errors import ValidationFailed
from ledger.models import Client, User
from ledger.settings_changes import audit_record

from .models import ClientDocumentProfile, DocumentKind


def document_profile_change(
    *, client: Client, paper_kinds: list[str], retention_years: int, actor: User | str | None
) -> ClientDocumentProfile:
    unknown = set(paper_kinds) - set(DocumentKind.values)
    if unknown:
        raise ValidationFailed(f"unknown document kinds {sorted(unknown)}", code="invalid_setting",
                               field="paper_kinds")  # fmt: skip
    if not 1 <= retention_years <= 30:
        raise ValidationFailed(
            "documents are kept 1 to 30 years", code="invalid_setting", field="retention_years"
        )
    with transaction.atomic():
        profile, _ = ClientDocumentProfile.objects.select_for_update().get_or_create(client=client)
        before = {
            "paper_kinds": sorted(profile.paper_kinds or []),
            "retention_years": profile.retention_years,
        }
        after = {"paper_kinds": sorted(set(paper_kinds)), "retention_years": retention_years}
        if before == after:
            raise ValidationFailed("nothing to change", code="nothing_changed")
        profile.paper_kinds, profile.retention_years = after["paper_kinds"], retention_years
        profile.save(update_fields=["paper_kinds", "retention_years"])
        audit_record(client=client, kind="document_profile", action="change", target=client.name, actor=actor,
                     before=before, after=after)  # fmt: skip
    return profile
