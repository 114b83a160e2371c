"""Top-level routes: the web pages at the root, the versioned API, its schema and docs, the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

# Errors Django answers itself (no route matched, an error outside DRF): JSON under /api/.
handler400 = "core.api.handlers.bad_request"
handler403 = "core.api.handlers.permission_denied"
handler404 = "core.api.handlers.page_not_found"
handler500 = "core.api.handlers.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("trainers.urls")),
    path("api/v1/", include("payroll.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("trainers.web_urls")),
    path("", include("payroll.web_urls")),
]
