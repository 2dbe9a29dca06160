"""Settings pages: the catalogue (services, staff and rooms, hours, closures) and the rest."""

from .settings_catalog_urls import urlpatterns as catalog_urlpatterns
from .settings_general_urls import urlpatterns as general_urlpatterns
from .settings_retention_urls import urlpatterns as retention_urlpatterns
from .settings_webhooks_urls import urlpatterns as webhooks_urlpatterns

app_name = "settings"
urlpatterns = [*general_urlpatterns, *catalog_urlpatterns, *retention_urlpatterns, *webhooks_urlpatterns]
