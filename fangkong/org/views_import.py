"""The roster import page: upload a file, see the preview, import it (all or nothing).

The uploaded file is kept on the server (``settings.IMPORT_DIR``, one private folder per
upload, named from the session) so that the user can check it again or import it without
uploading it again; a new upload replaces it, and a successful import deletes it. Files left
behind by sessions that ended are removed at the next upload.
"""

from __future__ import annotations

import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.permissions import Perm
from fangkong.core.viewkit import AuthedRequest, requires

from . import imports

SESSION_KEY = "fk_person_import"
# Problems shown on the page (all of them are counted; the command line prints them all).
SHOWN_PROBLEMS = 500
SHOWN_WARNINGS = 100
_TOKEN_LENGTH = 32


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("The filled-in template (.xlsx), an edited ledger, or a CSV file."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


# ---------------------------------------------------------------------------------------------
# The kept file


def _import_dir() -> Path:
    return Path(settings.IMPORT_DIR)


def _kept(request: AuthedRequest) -> Path | None:
    """The file this session uploaded, if it is still there."""
    kept = request.session.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("user") != request.user.pk:
        return None
    token, name = str(kept.get("token", "")), str(kept.get("name", ""))
    if len(token) != _TOKEN_LENGTH or not token.isalnum() or not name or "/" in name:
        return None
    path = _import_dir() / token / name
    return path if path.is_file() else None


def _forget(request: AuthedRequest) -> None:
    """Delete the kept file and its folder, and forget it."""
    path = _kept(request)
    if path is not None:
        shutil.rmtree(path.parent, ignore_errors=True)
    request.session.pop(SESSION_KEY, None)


def _keep(request: AuthedRequest, upload: UploadedFile) -> Path:
    """Store an upload in a new private folder, replacing this session's previous one."""
    _forget(request)
    _sweep()
    try:
        name = get_valid_filename(Path(upload.name or "").name)
    except SuspiciousFileOperation:
        name = ""
    name = name or "upload"
    token = secrets.token_hex(_TOKEN_LENGTH // 2)
    _import_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = _import_dir() / token
    folder.mkdir(mode=0o700)
    path = folder / name
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    path.chmod(0o600)
    request.session[SESSION_KEY] = {"token": token, "name": name, "user": request.user.pk}
    return path


def _sweep() -> None:
    """Remove the kept files of sessions that have ended (older than a session lasts)."""
    root = _import_dir()
    if not root.is_dir():
        return
    cutoff = time.time() - settings.SESSION_COOKIE_AGE
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


# ---------------------------------------------------------------------------------------------
# The page


def _template_url() -> str:
    try:
        return reverse("org:roster_template")
    except NoReverseMatch:  # the template download is not installed
        return ""


def _context(
    request: AuthedRequest, form: ImportForm, report: imports.ImportReport | None
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "form": form,
        "report": report,
        "kept": _kept(request),
        "template_url": _template_url(),
        "max_rows": settings.IMPORT_MAX_ROWS,
        "max_megabytes": f"{settings.IMPORT_MAX_BYTES / 1_000_000:g}",
    }
    if report is not None:
        context["problems"] = report.problems[:SHOWN_PROBLEMS]
        context["more_problems"] = max(0, len(report.problems) - SHOWN_PROBLEMS)
        context["warnings"] = report.warnings[:SHOWN_WARNINGS]
        context["more_warnings"] = max(0, len(report.warnings) - SHOWN_WARNINGS)
        context["confirm"] = _(
            "Import %(file)s? %(persons_created)d persons will be added and %(persons_updated)d changed; %(households_created)d households added and %(households_updated)d changed."
        ) % {
            "file": report.file_name,
            "persons_created": report.persons.created,
            "persons_updated": report.persons.updated,
            "households_created": report.households.created,
            "households_updated": report.households.updated,
        }
    return context


@requires(Perm.REGISTER_EDIT)
def person_import(request: AuthedRequest) -> HttpResponse:
    """GET: the upload form and, when a file is kept, its preview (checked again each time).
    POST ``upload``: keep the file, then show its preview; ``import``: import the kept file
    (all or nothing); ``discard``: forget the kept file."""
    action = request.POST.get("action", "upload") if request.method == "POST" else ""
    if action == "discard":
        _forget(request)
        return redirect("org:person_import")
    if action == "import":
        path = _kept(request)
        if path is None:
            messages.error(request, _("Upload the file again: the uploaded file is gone."))
            return redirect("org:person_import")
        report = imports.commit(actor=request.user, source=path)
        if report.committed:
            _forget(request)
            messages.success(
                request,
                _(
                    "Imported %(file)s: %(persons_created)d persons added, %(persons_updated)d changed, %(persons_unchanged)d unchanged."
                )
                % {
                    "file": report.file_name,
                    "persons_created": report.persons.created,
                    "persons_updated": report.persons.updated,
                    "persons_unchanged": report.persons.unchanged,
                },
            )
            return redirect("org:person_list")
        return render(
            request, "org/import.html", _context(request, ImportForm(), report), status=200
        )
    if action == "upload":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > settings.IMPORT_MAX_BYTES:
                form.add_error(
                    "file",
                    _(
                        "The file is larger than %(limit)s MB. Split it into several files (for example one per unit) and import them one after the other."
                    )
                    % {"limit": f"{settings.IMPORT_MAX_BYTES / 1_000_000:g}"},
                )
            else:
                _keep(request, upload)
                return redirect("org:person_import")
        return render(request, "org/import.html", _context(request, form, None))
    kept = _kept(request)
    preview = imports.preview(actor=request.user, source=kept) if kept is not None else None
    return render(request, "org/import.html", _context(request, ImportForm(), preview))
