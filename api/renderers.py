"""Renderers beyond JSON, for content negotiation only."""

from rest_framework.renderers import JSONRenderer


class PdfRenderer(JSONRenderer):
    """Lets a client that accepts only application/pdf (Swagger UI's "Try it out" does) reach a view that
    answers with a PDF: the view returns the PDF itself, so this renders only problems, as JSON (their
    content type stays application/problem+json)."""

    media_type = "application/pdf"
    format = "pdf"
