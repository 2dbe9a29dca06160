"""The signature scheme, checked with the verify snippet of docs/webhooks.md itself."""

import re
from pathlib import Path

from termino.shared import timeutils
from termino.tenants.webhooks import signing

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


def snippet_verify():
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace["verify"]


def test_the_documented_snippet_verifies_what_termino_signs():
    verify = snippet_verify()
    secret = signing.secret_new()
    body = '{"id":"x","type":"customer.created","data":{"customer":{"id":1,"first_name":"Jörg"}}}'.encode()
    now = int(timeutils.now().timestamp())
    header = signing.signature(secret=secret, timestamp=now, body=body)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(secret, body, header)  # the snippet reads the (pinned) clock
    assert verify(secret, body, header, now=now + 299)
    # A changed body, another secret, an old or future timestamp, a mangled header: refused.
    assert not verify(secret, body + b" ", header, now=now)
    assert not verify(signing.secret_new(), body, header, now=now)
    assert not verify(secret, body, header, now=now + 301)
    assert not verify(secret, body, header, now=now - 301)
    assert not verify(secret, body, header.replace("t=", "t=1"), now=now)
    assert not verify(secret, body, "nonsense", now=now)
    assert not verify(secret, body, f"t={now}", now=now)


def test_secrets_are_long_random_and_marked():
    secrets = {signing.secret_new() for _ in range(50)}
    assert len(secrets) == 50
    assert all(s.startswith("whsec_") and len(s) >= 40 for s in secrets)
