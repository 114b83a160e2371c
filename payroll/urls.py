from rest_framework.routers import SimpleRouter

from payroll import api

router = SimpleRouter(trailing_slash=True)
router.register("rates", api.RateViewSet, basename="rate")

urlpatterns = router.urls
