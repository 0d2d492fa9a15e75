from django.urls import path

from hub.recipes import views

urlpatterns = [
    path("", views.recipe_list, name="recipes"),
    path("import/", views.import_file, name="recipe_import"),
    path("<int:pk>/", views.recipe_detail, name="recipe_detail"),
    path("<int:pk>/run/", views.run_now, name="recipe_run"),
    path("<int:pk>/publish/", views.publish, name="recipe_publish"),
    path("<int:pk>/pause/", views.pause, name="recipe_pause"),
    path("<int:pk>/secret/", views.secret, name="recipe_secret"),
    path("<int:pk>/delete/", views.delete, name="recipe_delete"),
]
