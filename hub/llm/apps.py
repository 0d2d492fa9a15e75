from django.apps import AppConfig


class LLMConfig(AppConfig):
    name = "hub.llm"
    label = "llm"
    verbose_name = "AI usage"

    def ready(self) -> None:
        from hub.llm import receivers

        receivers.connect()
