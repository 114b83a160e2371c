"""Request parsers that turn every malformed body into a 400, never a 500."""

import codecs
import math
from typing import IO, Any, cast

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined] # not in the stubs yet
from rest_framework.utils import json


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


class SafeJSONParser(JSONParser):
    """DRF's strict JSON parser, also refusing numbers beyond a float and bodies nested too deep."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Parse JSON; answer out-of-range numbers and pathological nesting with a parse error (400)."""
        try:  # as DRF's JSONParser.parse, with finite_float
            decoded = codecs.getreader(get_encoding(parser_context or {}))(stream)
            return json.load(cast(IO[str], decoded), parse_float=finite_float)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
