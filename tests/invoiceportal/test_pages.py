from django.test import Client


def test_the_link_in_the_reminder_email_opens_the_invoice(reminded):
    invoice, token = reminded
    response = Client().get(f"/p/{token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Faktura {invoice.invoice_no}" in html
    assert "1\xa0035,00\xa0kr" in html  # capital 1 000 + reminder fee 35
    assert invoice.payment_ref in html and "15032080000" in html
    assert "Fjordkraft Demo AS" in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
