"""Every URL pattern of a URLconf, found by walking its resolvers, with the HTTP methods it accepts.

Shared by the isolation suite and tests that check every page of one area (e.g. the backoffice). Nothing
here touches the database: the walk runs at collection time, values are filled in by the test.
"""

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, resolve

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ALL_METHODS = ("GET", *WRITE_METHODS)

# `<int:pk>` in a route, `(?P<pk>...)` in a regex (DRF's routers, the admin).
_ROUTE_PARAM = re.compile(r"(?<!\?P)<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


@dataclass(frozen=True)
class Param:
    """A URL parameter and the literal path segment in front of it: `customers/<pk>` is a customer's id."""

    segment: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.segment}/<{self.name}>"


@dataclass(frozen=True)
class Endpoint:
    name: str  # "namespace:name", or "?route" for a pattern without a name
    route: str  # "/customers/<int:pk>/edit/" (regex parts kept as written)
    params: tuple[Param, ...]
    methods: tuple[str, ...]
    callback: Callable
    module: str  # the urlconf module the pattern was included from

    def __str__(self) -> str:
        return self.name

    def path(self, values: Mapping[str, object]) -> str:
        """The concrete path, each parameter replaced by `values[param.key]`."""
        by_name = {p.name: str(values[p.key]) for p in self.params}
        text = _ROUTE_PARAM.sub(lambda m: by_name[m["name"]], self.route)
        text = _REGEX_PARAM.sub(lambda m: by_name[m["name"]], text)
        return text.replace("^", "").replace("$", "")


def endpoints(urlconf: str, *, under_module: str | None = None) -> list[Endpoint]:
    """Every pattern of `urlconf`, resolvers walked recursively; optionally only those under one module."""
    found: list[Endpoint] = []

    def walk(patterns: Iterable, prefix: str, namespace: str | None, module: str, inside: bool) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                child = pattern.urlconf_name
                child_module = getattr(child, "__name__", child) if not isinstance(child, list) else module
                ns = ":".join(filter(None, [namespace, pattern.namespace])) or None
                walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    ns,
                    child_module,
                    inside or under_module is None or child_module == under_module,
                )
            elif isinstance(pattern, URLPattern) and inside:
                route = prefix + str(pattern.pattern)
                name = ":".join(filter(None, [namespace, pattern.name or f"?/{route}"]))
                found.append(
                    Endpoint(
                        name=name,
                        route="/" + route,
                        params=_params(route),
                        methods=allowed_methods(pattern.callback),
                        callback=pattern.callback,
                        module=module,
                    )
                )

    walk(get_resolver(urlconf).url_patterns, "", None, urlconf, under_module is None)
    return found


def _params(route: str) -> tuple[Param, ...]:
    params = []
    names = [(m.start(), m["name"]) for m in _ROUTE_PARAM.finditer(route)]
    names += [(m.start(), m["name"]) for m in _REGEX_PARAM.finditer(route)]
    for start, name in sorted(names):
        literal = [s for s in re.split(r"/", _strip_params(route[:start])) if s.strip("^")]
        params.append(Param(segment=literal[-1].strip("^") if literal else "", name=name))
    return tuple(params)


def _strip_params(text: str) -> str:
    text = _ROUTE_PARAM.sub("", text)
    return _REGEX_PARAM.sub("", text)


def allowed_methods(callback: Callable) -> tuple[str, ...]:
    """The methods the view answers; all of them when the view does not say (a plain function view)."""
    actions = getattr(callback, "actions", None)  # a DRF viewset route
    if actions:
        return tuple(m for m in ALL_METHODS if m.lower() in actions)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        allowed = getattr(view_class, "http_method_names", [])
        return tuple(m for m in ALL_METHODS if m.lower() in allowed and hasattr(view_class, m.lower()))
    declared = _declared_methods(callback)
    return tuple(m for m in ALL_METHODS if m in declared) if declared else ALL_METHODS


def _declared_methods(func: Callable) -> set[str] | None:
    """Methods named by `require_http_methods` (require_GET, require_POST, ...) in the wrapper chain."""
    seen = set()
    while func is not None and id(func) not in seen:
        seen.add(id(func))
        code, closure = getattr(func, "__code__", None), getattr(func, "__closure__", None)
        if code is not None and closure:
            cells = dict(zip(code.co_freevars, closure, strict=False))
            if "request_method_list" in cells:
                return {m.upper() for m in cells["request_method_list"].cell_contents}
            # A decorator's wrapper holds the function it wraps in a closure cell.
            inner = [c.cell_contents for c in closure if _is_function(c)]
        else:
            inner = []
        func = getattr(func, "__wrapped__", None) or (inner[0] if len(inner) == 1 else None)
    return None


def _is_function(cell) -> bool:
    try:
        return inspect.isfunction(cell.cell_contents)
    except ValueError:  # an empty cell
        return False


def check_resolves(endpoint: Endpoint, path: str, urlconf: str) -> None:
    """The filled-in path must lead back to the same view: a wrong fill would test some other page."""
    match = resolve(path.split("?")[0], urlconf=urlconf)
    assert match.func is endpoint.callback, f"{path} resolves to {match.view_name}, not {endpoint.name}"
