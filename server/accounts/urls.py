from django.urls import path

from server.accounts.apis import WhoAmIApi

urlpatterns = [
    path("auth/whoami/", WhoAmIApi.as_view(), name="whoami"),
]
