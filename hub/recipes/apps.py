from django.apps import AppConfig


class RecipesConfig(AppConfig):
    name = "hub.recipes"
    label = "recipes"
    verbose_name = "Recipes"
