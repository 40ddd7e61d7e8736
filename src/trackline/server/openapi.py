"""``/openapi.json``: an OpenAPI 3.1 document generated from the application's route table.

Routes built from :class:`~trackline.server.routes.Endpoint` records are described in full:
GET fields as query parameters, other methods as a JSON request body, the response and the
error body as schemas made from the message tables. Any other route (``/health``,
``/version``, this document itself) is listed with its methods and its endpoint's docstring.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from starlette.routing import BaseRoute, Route

from trackline.server.routes import EndpointRoute
from trackline.server.wire import Field, Message
from trackline.version import __version__

__all__ = ["openapi_document"]

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error_code", "message"],
}
_DOUBLE_SCHEMA = {
    "oneOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}]
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


class _Schemas:
    """Collects the component schemas of every message reached from the routes."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {"Error": _ERROR_SCHEMA}

    def field(self, fld: Field) -> dict[str, Any]:
        item: dict[str, Any]
        if fld.kind == "string":
            item = {"type": "string"}
        elif fld.kind == "int64":
            item = {"type": "integer", "format": "int64"}
        elif fld.kind == "double":
            item = dict(_DOUBLE_SCHEMA)
        elif fld.kind == "bool":
            item = {"type": "boolean"}
        elif fld.kind == "enum":
            item = {"type": "string", "enum": list(fld.enum or {})}
        else:
            assert fld.message is not None
            item = self.message(fld.message)
        if fld.repeated:
            item = {"type": "array", "items": item}
        if fld.doc:
            item = {**item, "description": fld.doc}
        return item

    def message(self, message: Message) -> dict[str, str]:
        if message.name not in self.components:
            self.components[message.name] = {}  # a placeholder stops recursion
            schema: dict[str, Any] = {
                "type": "object",
                "properties": {f.name: self.field(f) for f in message.fields},
            }
            required = [f.name for f in message.fields if f.required]
            if required:
                schema["required"] = required
            if message.doc:
                schema["description"] = message.doc
            self.components[message.name] = schema
        return _ref(message.name)


_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _template(path: str) -> tuple[str, list[str]]:
    """An OpenAPI path template from a Starlette path (``{p:path}`` -> ``{p}``), and its
    parameter names."""
    return _PARAM.sub(r"{\1}", path), _PARAM.findall(path)


def _operation_id(method: str, template: str) -> str:
    return method.lower() + re.sub(r"[^0-9A-Za-z]+", "_", template).rstrip("_")


def _path_parameters(names: list[str]) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in names
    ]


def _query_parameters(
    schemas: _Schemas, message: Message, exclude: list[str]
) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "in": "query",
            "required": f.required,
            "schema": schemas.field(f),
            **({"explode": True} if f.repeated else {}),
        }
        for f in message.fields
        if f.name not in exclude
    ]


def _endpoint_operation(route: EndpointRoute, method: str, schemas: _Schemas) -> dict[str, Any]:
    spec = route.spec
    template, names = _template(route.path)
    operation: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": _operation_id(method, template),
        "responses": {
            "200": {
                "description": "Success",
                "content": {"application/json": {"schema": schemas.message(spec.response)}},
            },
            "default": {
                "description": "An error",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
        },
    }
    parameters = _path_parameters(names)
    if method == "GET":
        parameters += _query_parameters(schemas, spec.request, names)
    else:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.message(spec.request)}},
        }
    if parameters:
        operation["parameters"] = parameters
    return operation


def _plain_operation(route: Route, method: str) -> dict[str, Any]:
    doc = (route.endpoint.__doc__ or route.name).strip().splitlines()[0]
    template, names = _template(route.path)
    operation: dict[str, Any] = {
        "summary": doc,
        "operationId": _operation_id(method, template),
        "responses": {"200": {"description": "Success"}},
    }
    if names:
        operation["parameters"] = _path_parameters(names)
    return operation


def openapi_document(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document describing ``routes`` (HEAD, added by Starlette, is left out)."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        operations = paths.setdefault(_template(route.path)[0], {})
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            if isinstance(route, EndpointRoute):
                operations[method.lower()] = _endpoint_operation(route, method, schemas)
            else:
                operations[method.lower()] = _plain_operation(route, method)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "trackline tracking server",
            "version": __version__,
            "description": "MLflow's REST protocol, as served by trackline.",
        },
        "paths": paths,
        "components": {"schemas": schemas.components},
    }
