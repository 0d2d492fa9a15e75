from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """The last sign of life from a background component: "worker" or "scheduler"."""

    component = models.CharField(max_length=30, primary_key=True)
    beat_at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.component} at {self.beat_at:%H:%M:%S}"

    @classmethod
    def record(cls, component: str, detail: str = "") -> None:
        cls.objects.update_or_create(
            component=component, defaults={"beat_at": timezone.now(), "detail": detail[:200]}
        )
