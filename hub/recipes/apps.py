from django.apps import AppConfig


class RecipesConfig(AppConfig):
    name = "hub.recipes"
    label = "recipes"
    verbose_name = "Recipes"

    def ready(self):
        from hub.recipes import signals  # noqa: F401  (pauses recipes on a broken connection)
