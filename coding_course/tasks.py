from celery import shared_task


@shared_task(name="coding_course.health_ping")
def health_ping(token: str) -> str:
    """Round-trip proof for /healthz and the integration tests: echoes its token."""
    return f"pong:{token}"
