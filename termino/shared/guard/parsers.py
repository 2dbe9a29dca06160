"""DRF's JSON parser through safejson: nesting beyond MAX_DEPTH or a NUL character is a 400, never a 500.

Configured for every API view in REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]."""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from . import safejson


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            # DRF's strict mode: NaN and Infinity are no JSON.
            options = {"parse_constant": json.strict_constant} if self.strict else {}
            return safejson.loads(stream.read(), encoding, **options)
        except safejson.UnsafeJSON as exc:
            raise ParseError(str(exc)) from None
        except (ValueError, LookupError) as exc:  # not JSON, or not in the declared encoding
            raise ParseError(f"JSON parse error - {exc}") from None
