"""The request guard: garbage from outside gets a clear 4xx before any code can trip over it.

One place for what no endpoint should ever see (middleware.py): NUL bytes in the path, query string,
headers and text bodies, addresses that are not UTF-8 or too long, bodies over the size limit (refused by
their Content-Length before they are read), JSON nested too deeply. JSON from outside is parsed only
through safejson.loads (the DRF parser in parsers.py, the webhooks), which bounds the nesting. Answers
are JSON `{"detail": ...}` under /api/ and a small page elsewhere, in the request's language
(responses.py).
"""
