"""The staff admin, mounted at /staff/ of the public URLconf (platform host only)."""

from django.urls import path

from termino.platform.legal import staff_views as legal_views

from . import views

app_name = "staffadmin"
urlpatterns = [
    path("", views.BusinessListView.as_view(), name="businesses"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.VerifyView.as_view(), name="verify"),
    path("login/set-up/", views.EnrolView.as_view(), name="enrol"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("login/forgot/", views.PasswordResetRequestView.as_view(), name="password_reset"),
    path("login/forgot/sent/", views.PasswordResetSentView.as_view(), name="password_reset_sent"),
    path(
        "login/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("businesses/<int:pk>/", views.BusinessDetailView.as_view(), name="business"),
    path("businesses/<int:pk>/suspend/", views.SuspendView.as_view(), name="suspend"),
    path("businesses/<int:pk>/reactivate/", views.ReactivateView.as_view(), name="reactivate"),
    path("businesses/<int:pk>/extend-trial/", views.TrialExtendView.as_view(), name="extend-trial"),
    path("businesses/<int:pk>/sms-lock/", views.SmsLockView.as_view(), name="sms-lock"),
    path("businesses/<int:pk>/sms-unlock/", views.SmsUnlockView.as_view(), name="sms-unlock"),
    path("businesses/<int:pk>/impersonate/", views.ImpersonateView.as_view(), name="impersonate"),
    path("businesses/<int:pk>/restore/", views.RestoreView.as_view(), name="restore"),
    path(
        "businesses/<int:pk>/impersonations/<int:grant_pk>/end/",
        views.ImpersonationEndView.as_view(),
        name="impersonation-end",
    ),
    path("audit/", views.AuditLogView.as_view(), name="audit"),
    # The privacy notice's and the AV contract's operator details and sub-processors (termino.platform.legal).
    path("legal/", legal_views.LegalView.as_view(), name="legal"),
    path("legal/operator/", legal_views.OperatorSaveView.as_view(), name="legal-operator"),
    path("legal/subprocessors/", legal_views.SubProcessorAddView.as_view(), name="legal-subprocessor-add"),
    path(
        "legal/subprocessors/<int:pk>/end/",
        legal_views.SubProcessorEndView.as_view(),
        name="legal-subprocessor-end",
    ),
]
