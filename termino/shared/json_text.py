"""Answers whose JSON is written by the code that knows their shape, passed through the renderer as is.

A month of free slots is hundreds of small objects: building a dict per slot and letting `json.dumps` walk
them cost the staff API more than the availability engine itself (2.9 + 1.6 ms for 750 slots, the engine
5.4 ms). Code that writes such an answer hands the view a `JSONText`; `Renderer` (the API's renderer, see
settings) sends it unchanged and renders everything else as DRF's JSONRenderer does. Asked for an indent
(`Accept: application/json; indent=2`, as the browsable API and people reading answers do), it renders a
JSONText like any other answer: the same JSON, indented, at the cost the text was written to save.
"""

import json

from rest_framework.renderers import JSONRenderer


class JSONText(bytes):
    """Complete UTF-8 JSON text, ready to send (and to cache: it pickles as bytes do)."""


class Renderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, JSONText):
            if self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
                return bytes(data)
            data = json.loads(data)
        return super().render(data, accepted_media_type, renderer_context)
