"""No "1 Termine": a number in a translated template text followed by a plural noun needs `count`.

A heuristic: inside `{% blocktranslate %}` without `count`, a variable directly followed (one word may
stand between) by an English plural noun is a count that reads wrong for 1.
"""

import re
from pathlib import Path

TERMINO = Path(__file__).resolve().parents[2] / "termino"
NOUNS = (
    "seconds|minutes|hours|days|weeks|months|years|rows|appointments|customers|members|bookings|services|"
    "entries|characters|messages|items|people|times|tokens|parts|files|logins|attempts|codes"
)
BLOCK = re.compile(
    r"{%\s*blocktrans(?:late)?\b(?P<args>[^%]*)%}(?P<body>.*?){%\s*endblocktrans(?:late)?\s*%}", re.S
)
COUNT_THEN_NOUN = re.compile(r"{{\s*\w+\s*}}\s+(?:\w+\s+)?(?:" + NOUNS + r")\b")
# Shown only when there are more than `n`, so `total` is at least 2.
ALWAYS_PLURAL = {
    "The latest {{ n }} of {{ total }} appointments.",
    "The latest {{ n }} of {{ total }} messages.",
}


def uncounted(text: str) -> list[str]:
    found = []
    for block in BLOCK.finditer(text):
        body = " ".join(block.group("body").split())
        if re.search(r"\bcount\b", block.group("args")) or body in ALWAYS_PLURAL:
            continue
        if COUNT_THEN_NOUN.search(body):
            found.append(body)
    return found


def test_the_check_finds_what_it_looks_for():
    assert uncounted("{% blocktranslate with n=x %}{{ n }} open bookings{% endblocktranslate %}")
    assert uncounted("{% blocktranslate %}in {{ minutes }} minutes{% endblocktranslate %}")
    assert not uncounted(
        "{% blocktranslate count n=x %}{{ n }} day{% plural %}{{ n }} days{% endblocktranslate %}"
    )
    assert not uncounted("{% blocktranslate with n=x %}Messages sent: {{ n }}{% endblocktranslate %}")


def test_every_count_in_a_template_is_pluralised():
    offenders = {
        str(path.relative_to(TERMINO)): found
        for path in sorted(TERMINO.rglob("*"))
        if path.suffix in {".html", ".txt"}
        if (found := uncounted(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "use {% blocktranslate count n=... %}…{% plural %}…{% endblocktranslate %}"
