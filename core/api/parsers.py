"""Request parsers that turn every malformed body into a 400, never a 500.

(Which content types and charsets reach a parser at all is core.api.negotiation's rule.)
"""

import codecs
import math
from typing import IO, Any, cast

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined] # not in the stubs yet
from rest_framework.utils import json

DUPLICATE_KEY_MESSAGE = "Given twice in one JSON object: send each key once."


def finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent; one beyond a float (1e400) is refused.

    Python reads 1e400 as infinity, which no field can use: DRF's own fields then failed
    with OverflowError (a 500) where int() met it. NaN and Infinity spelled out are not
    JSON at all (DRF's strict parsing refuses them).
    """
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Number out of range: {text[:40]}")
    return value


class DuplicateKey(ValueError):
    """An object names the same key twice: Python would keep the last one silently."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a key given twice (object_pairs_hook)."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKey(key)
        obj[key] = value
    return obj


class SafeJSONParser(JSONParser):
    """DRF's strict JSON parser, also refusing duplicate keys, numbers beyond a float and
    bodies nested too deep."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Parse JSON; answer what Python cannot hold as the client meant it with a 400."""
        try:  # as DRF's JSONParser.parse, with finite_float and unique_keys
            decoded = codecs.getreader(get_encoding(parser_context or {}))(stream)
            return json.load(cast(IO[str], decoded), parse_float=finite_float, object_pairs_hook=unique_keys)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error
        except DuplicateKey as error:
            raise ValidationError({error.key: [DUPLICATE_KEY_MESSAGE]}) from error
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
