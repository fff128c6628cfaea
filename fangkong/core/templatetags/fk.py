from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.safestring import SafeString

from fangkong.core.masking import mask_id_number, mask_phone

register = template.Library()


@register.filter
def is_checkbox(field: Any) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.simple_tag
def field_widget(field: Any, css_class: str) -> SafeString:
    """Render a bound field's widget with a CSS class (Bootstrap) and error wiring."""
    widget = field.field.widget
    if isinstance(widget, forms.Select):
        css_class = css_class.replace("form-control", "form-select")
    attrs = {"class": css_class}
    if field.errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}_error"
    return field.as_widget(attrs=attrs)


@register.filter
def masked_id(value: str) -> str:
    return mask_id_number(value)


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value)
