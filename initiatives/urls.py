from django.urls import path

from initiatives import views

app_name = "initiatives"

urlpatterns = [
    path("initiatives/new/", views.create, name="create"),
    path("initiatives/<int:pk>/edit/", views.edit, name="edit"),
    path("initiatives/<int:pk>/delete/", views.delete, name="delete"),
]
