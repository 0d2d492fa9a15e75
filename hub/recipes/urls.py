from django.urls import path

from hub.recipes import views

urlpatterns = [
    path("", views.recipe_list, name="recipes"),
]
