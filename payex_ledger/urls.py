from django.contrib import admin
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import portal360.views.start
from api.endpoints import cusin as cusin_api
from api.endpoints import distribution as distribution_api
from api.endpoints import ledger as ledger_api
from api.exceptions import server_error, unknown_endpoint


def favicon(request):
    # Resolved per request: the static storage's manifest is read when it is there to read.
    return HttpResponsePermanentRedirect(static("portal360/favicon.svg"))


def health(request):
    return JsonResponse({"status": "ok"})


# The REST API: api/endpoints/ lists the routes of each app's resources under /api/v1/.
api_v1 = [*ledger_api.urlpatterns, *cusin_api.urlpatterns, *distribution_api.urlpatterns,
          *ledger_api.invoice_urlpatterns]  # fmt: skip

urlpatterns = [
    path("", portal360.views.start.root, name="root"),
    path("360/", include("portal360.urls")),
    path("health/", health, name="health"),
    # Browsers ask for /favicon.ico whatever the page links: answer with the icon, not a 404.
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("p/", include("invoiceportal.urls")),  # invoice portal
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", unknown_endpoint),
]

# A failure outside the API views' own handling (a middleware, the URL resolver) still answers an /api/
# caller with problem+json; every other page gets templates/500.html.
handler500 = server_error
