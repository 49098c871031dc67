"""Content negotiation for downloads: the file decides its own type."""

from rest_framework.negotiation import BaseContentNegotiation


class DownloadNegotiation(BaseContentNegotiation):
    """A download answers with the file's own content type whatever the client's Accept header says (a
    client asking for application/xml must get its XML file, not a 406); problems still render as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
