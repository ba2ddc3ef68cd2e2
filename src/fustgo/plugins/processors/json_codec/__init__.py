"""json_decode and json_encode: JSON text ↔ Arrow structs and lists, a whole batch at once.

`json_decode` parses with Arrow's JSON reader, the parser of the `json` input, so a field
decodes to the types a file holding the same objects would get (objects become structs,
arrays lists, ISO date-times timestamps), and its type is fixed once for the run
(`decode`). `json_encode` writes records as JSON objects with Polars, the way the `json`
output does (`encode`). `lines` is the Arrow parsing behind json_decode, `messages` what
it says about the values it refuses.
"""

from fustgo.plugins.processors.json_codec.decode import JsonDecode, JsonDecodeConfig
from fustgo.plugins.processors.json_codec.encode import JsonEncode, JsonEncodeConfig

__all__ = ["JsonDecode", "JsonDecodeConfig", "JsonEncode", "JsonEncodeConfig"]
