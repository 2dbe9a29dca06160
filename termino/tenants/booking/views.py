from django.views.generic import TemplateView

from . import selectors


class BookingPageView(TemplateView):
    """The business's public page for its customers: who it is and what can be booked."""

    template_name = "booking/page.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["services"] = selectors.bookable_services()
        return context
