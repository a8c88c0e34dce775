"""Public code-set pages: search (live as you type, and a plain GET form without
JavaScript), the JSON endpoint behind it, and one page per code."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from codesets.domain.catalog import NoReleaseInForce
from codesets.domain.shapes import canonical
from codesets.domain.systems import System
from codesets.search import SearchHit, search_codes
from codesets.selectors import code_page, releases_for_search
from coding_course.accounts.ratelimit import rate_limited

_PAGE_LIMIT = 25
# Generous for a person typing (the search is debounced), low enough to stop scraping
# of the code tables (ASVS 2.4.1).
CODE_SEARCHES_PER_MINUTE = 120
_API_MAX_LIMIT = 50


class CodeSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True, label="Code or words")
    system = forms.ChoiceField(
        required=False,
        label="Code set",
        choices=[("", "All code sets"), *((system.value, system.value) for system in System)],
    )
    date = forms.DateField(required=False, label="Date of service")
    limit = forms.IntegerField(required=False, min_value=1, max_value=_API_MAX_LIMIT)

    def search(self, default_limit: int) -> tuple[list[SearchHit], str]:
        """The hits for a valid form and a sentence describing them (or the problem)."""
        data = self.cleaned_data
        query: str = data["q"]
        system = System(data["system"]) if data["system"] else None
        day: dt.date | None = data["date"]
        try:
            releases = releases_for_search(day=day, system=system)
            hits = (
                search_codes(
                    query=query, system=system, limit=data["limit"] or default_limit, day=day
                )
                if query
                else []
            )
        except NoReleaseInForce as error:
            return [], f"{str(error)[0].upper()}{str(error)[1:]}."
        searched = ", ".join(f"{r.system} {r.version}" for r in releases) or "no release"
        if not query:
            return [], f"Searching {searched}."
        count = f"{len(hits)} result{'' if len(hits) == 1 else 's'}"
        return hits, f"{count} for “{query}” in {searched}."


@rate_limited("code-search", per_minute=CODE_SEARCHES_PER_MINUTE)
def search_view(request: HttpRequest) -> HttpResponse:
    form = CodeSearchForm(request.GET or None)
    hits: list[SearchHit] = []
    status = ""
    if form.is_bound and form.is_valid():
        hits, status = form.search(_PAGE_LIMIT)
    elif not form.is_bound:
        form = CodeSearchForm(initial={"system": ""})
    return render(request, "codesets/search.html", {"form": form, "hits": hits, "status": status})


@rate_limited("code-search", per_minute=CODE_SEARCHES_PER_MINUTE)
def search_api_view(request: HttpRequest) -> HttpResponse:
    """The ``search_codes`` JSON list for ``q``, ``system``, ``date`` and ``limit``."""
    form = CodeSearchForm(request.GET)
    if not form.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(str(error) for error in errors)}"
            for field, errors in form.errors.items()
        )
        return JsonResponse({"error": problems}, status=400)
    hits, _ = form.search(default_limit=10)
    return JsonResponse([hit.as_dict() for hit in hits], safe=False)


def code_detail_view(request: HttpRequest, system: str, code: str) -> HttpResponse:
    try:
        family = System.parse(system)
    except ValueError:
        raise Http404("unknown code system") from None
    wanted = canonical(code, family)
    if system != family.value or code != wanted:
        url = reverse("codesets:code_detail", args=[family.value, wanted])
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url, permanent=True)
    version = request.GET.get("version") or None
    page = code_page(system=family, code=wanted, version=version)
    if page is None:
        raise Http404(f"{wanted} is not a {family.value} code in the imported releases")
    return render(
        request,
        "codesets/code_detail.html",
        # Links from a page of a chosen release stay in that release.
        {"page": page, "keep_version": version is not None},
    )
