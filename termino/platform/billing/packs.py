"""Extra SMS packs: one-off purchases on top of a plan's monthly allowance. Credits never expire."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class SmsPack:
    code: str
    sms: int
    price_cents: int
    currency: str = "eur"

    @property
    def price(self) -> Decimal:
        return Decimal(self.price_cents) / 100


SMS_PACKS = (
    SmsPack(code="sms-100", sms=100, price_cents=900),
    SmsPack(code="sms-500", sms=500, price_cents=3900),
    SmsPack(code="sms-2000", sms=2000, price_cents=12900),
)


def sms_pack(code: str) -> SmsPack | None:
    return next((pack for pack in SMS_PACKS if pack.code == code), None)
