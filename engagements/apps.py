from django.apps import AppConfig


class EngagementsConfig(AppConfig):
    name = "engagements"
    verbose_name = "Engagements"

    def ready(self) -> None:
        from psaas_portal import auth, signed_in

        from . import identity as facts
        from .identity import identity

        # A global permission asked for alone is read with the viewer's other facts.
        if identity not in auth.PRELOADERS:
            auth.PRELOADERS.append(identity)
        # ... and read with the session, when there is one (psaas_portal.signed_in).
        signed_in.FACTS["engagements"] = facts.facts
        if facts.remember not in signed_in.REMEMBER:
            signed_in.REMEMBER.append(facts.remember)
