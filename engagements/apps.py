from django.apps import AppConfig


class EngagementsConfig(AppConfig):
    name = "engagements"
    verbose_name = "Engagements"

    def ready(self) -> None:
        from psaas_portal import auth

        from .identity import identity

        # A global permission asked for alone is read with the viewer's other facts.
        if identity not in auth.PRELOADERS:
            auth.PRELOADERS.append(identity)
