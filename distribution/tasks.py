from datetime import date

from celery import shared_task


@shared_task(name="distribution.distribute_documents")
def distribute_documents(as_of: str, company_no: str | None = None) -> dict:
    """Render, archive and send the documents due by as_of (YYYY-MM-DD), for one ledger or all."""
    from distribution.services.sending import documents_distribute
    from ledger.selectors import ledger_get

    ledger = ledger_get(company_no=company_no) if company_no else None
    return documents_distribute(as_of=date.fromisoformat(as_of), ledger=ledger)
