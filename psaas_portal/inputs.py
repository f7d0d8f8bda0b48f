"""Strict parsing of outside input: JSON bodies, times, single-line and multi-line text.

Everything here raises `InputError` naming the field, never anything a view would turn into a
500: bodies nested too deep (checked before `json.loads`, which would recurse), strings that
cannot be stored (lone surrogates, NUL), times whose offset pushes them out of the calendar
(year 1 or 9999), control characters (CR and LF included) in single-line fields.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from django import forms
from django.core.exceptions import ValidationError

MAX_DEPTH = 20

# C0 controls and DEL, and C1 controls; multi-line text may hold tab, LF and CR.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class InputError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def _storable(value: str, field: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            field, "holds characters that are not valid Unicode (a lone surrogate)."
        ) from None
    if "\x00" in value:
        raise InputError(field, "holds a NUL character.")


def single_line(value: str, field: str) -> str:
    """A one-line text: storable, and no control characters (no CR, LF, tab, NUL…)."""
    _storable(value, field)
    if _CONTROL.search(value):
        raise InputError(field, "must be one line without control characters.")
    return value


def multi_line(value: str, field: str) -> str:
    """A multi-line text: storable; tab, CR and LF allowed, other control characters not."""
    _storable(value, field)
    if _CONTROL_MULTILINE.search(value):
        raise InputError(field, "holds control characters.")
    return value


def _depth(body: str) -> int:
    """The deepest nesting of arrays and objects, outside strings (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in body:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _reject_constant(name: str):
    raise InputError("body", f"{name} is not a JSON number.")


def _check_strings(value, field: str) -> None:
    if isinstance(value, str):
        _storable(value, field)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, field or "body")
            _check_strings(item, key if not field else f"{field}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{field or 'body'}[{index}]")


def load_json(raw: bytes, *, max_depth: int = MAX_DEPTH):
    """The JSON value of a request body: UTF-8, at most `max_depth` levels, no NaN/Infinity,
    and every string storable (a lone surrogate or a NUL is refused, naming its key)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("body", "is not UTF-8.") from None
    if _depth(text) > max_depth:
        raise InputError("body", f"is nested deeper than {max_depth} levels.")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except InputError:
        raise
    except (ValueError, RecursionError):
        raise InputError("body", "is not valid JSON.") from None
    _check_strings(value, "")
    return value


def parse_time(value, field: str) -> dt.datetime:
    """An ISO 8601 time as an aware UTC datetime (UTC when it has no offset)."""
    if not isinstance(value, str) or not value:
        raise InputError(field, "is required, as an ISO 8601 time (UTC if no offset).")
    single_line(value, field)
    if len(value) > 40 or not value[-1:].isalnum():
        raise InputError(field, "is not an ISO 8601 time.")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(field, "is not an ISO 8601 time.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        raise InputError(field, "is out of range.") from None


# --- Forms -------------------------------------------------------------------------------


def validate_single_line(value: str) -> None:
    """A form validator: one line, no control characters (text only: a JSON or UUID field's
    cleaned value is not a string and is left to its own field)."""
    if not isinstance(value, str):
        return
    try:
        single_line(value, "")
    except InputError as exc:
        raise ValidationError(
            "Enter one line without control characters (no line breaks or tabs).",
            code="control_characters",
        ) from exc


def validate_multi_line(value: str) -> None:
    if not isinstance(value, str):
        return
    try:
        multi_line(value, "")
    except InputError as exc:
        raise ValidationError("Remove the control characters.", code="control_characters") from exc


class SingleLineField(forms.CharField):
    """A CharField for names, titles and references: CR, LF and other controls refused."""

    default_validators = [validate_single_line]


class MultiLineField(forms.CharField):
    """A CharField for notes and descriptions: line breaks allowed, other controls not."""

    default_validators = [validate_multi_line]


class SingleLineInputs:
    """A form mixin: every CharField shown as a one-line input (TextInput, EmailInput…, not a
    Textarea) refuses control characters, CR and LF included; Textareas refuse the other
    control characters. For forms whose fields are made elsewhere (ModelForms, the admin)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field, forms.CharField) or isinstance(
                field, (SingleLineField, MultiLineField)
            ):
                continue
            if isinstance(field.widget, forms.Textarea):
                field.validators.append(validate_multi_line)
            elif not isinstance(field.widget, forms.PasswordInput):
                field.validators.append(validate_single_line)


def _guarded(form_class):
    if issubclass(form_class, SingleLineInputs):
        return form_class
    return type(form_class.__name__, (SingleLineInputs, form_class), {"__module__": __name__})


def guard_admin_forms(site=None) -> None:
    """Every form of the Django admin (and its inlines) gets `SingleLineInputs`: the admin is
    an input path like any other. Called once the admin modules are loaded."""
    from django.contrib import admin

    site = site or admin.site
    for model_admin in site._registry.values():
        model_admin.form = _guarded(model_admin.form)
        if getattr(model_admin, "add_form", None) is not None:  # the user admin's
            model_admin.add_form = _guarded(model_admin.add_form)
        for inline in model_admin.inlines:
            inline.form = _guarded(inline.form)
