"""URLs of the web application."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import path

from pbc.web import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="pbc/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health", lambda request: HttpResponse("ok", content_type="text/plain"), name="health"),
    path("commissioner/<str:code>/", views.commissioner, name="commissioner"),
    path("cluster/<str:code>/", views.cluster, name="cluster"),
    path("practice/<str:code>/", views.practice, name="practice"),
    path("practice/<str:code>/worklist/", views.worklist, name="worklist"),
    path("clearing-house/", views.clearing_house, name="clearing_house"),
    path("contracts/", views.contracts, name="contracts"),
    path("budgets/", views.budgets, name="budgets"),
    path("incentives/", views.incentives, name="incentives"),
    path("upload/", views.upload, name="upload"),
    path("upload/<str:upload_id>/", views.upload_status, name="upload_status"),
    path("audit/", views.audit_log, name="audit_log"),
    path("api/openapi.json", api.openapi, name="api_openapi"),
    path("api/monitoring", api.monitoring, name="api_monitoring"),
    path("api/spend", api.spend, name="api_spend"),
    path("api/trends", api.trends, name="api_trends"),
]
