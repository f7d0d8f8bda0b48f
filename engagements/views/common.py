from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import redirect, render

from engagements.errors import Conflict, DomainError, NotAllowed, NotFound


def form_errors(form) -> str:
    parts = []
    for field, errors in form.errors.items():
        label = (
            form.fields[field].label if field in form.fields and form.fields[field].label else field
        )
        parts.append(f"{label}: {' '.join(errors)}" if field != "__all__" else " ".join(errors))
    return "Nothing was saved. " + "; ".join(parts)


def act(
    request: HttpRequest,
    form,
    action: Callable[[dict], object],
    *,
    success: str,
    render_again,
    done_url: str | Callable[[], str],
) -> HttpResponse:
    """Runs one service call for a validated form and answers the browser or htmx."""
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return render_again(status=400)
    try:
        action(form.cleaned_data)
    except NotFound as exc:
        raise Http404(str(exc)) from None
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return render_again(status=403)
    except Conflict as exc:
        messages.error(request, str(exc))
        return render_again(status=409)
    except DomainError as exc:
        messages.error(request, str(exc))
        return render_again(status=400)
    messages.success(request, success)
    if request.htmx:
        return render_again(status=200)
    return redirect(done_url() if callable(done_url) else done_url)


def not_found(request, exception=None):
    return render(request, "404.html", {"message": str(exception) if exception else ""}, status=404)


def forbidden(request, exception=None):
    return render(request, "403.html", {"message": str(exception) if exception else ""}, status=403)
