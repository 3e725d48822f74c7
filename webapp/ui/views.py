from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from webapp.papers import selectors


def home(request):
    return render(request, "ui/home.html", {"paper_count": selectors.paper_count()})


def healthz(request):
    connection.ensure_connection()
    return JsonResponse({"ok": True, "papers": selectors.paper_count()})
