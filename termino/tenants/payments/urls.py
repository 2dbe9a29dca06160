from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("payments", apis.PaymentViewSet, basename="payment")

urlpatterns = router.urls
