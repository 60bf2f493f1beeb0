"""The CVC operator as the design document's author wrote it with kopf: a create handler and a
timer, each asking CoinGecko for the one coin of the object it handles (one price request per
object per refresh; no shared cache: that is the comparison).

Run: kopf run --standalone -A operator.py
Environment: COINGECKO_BASE_URL (default the public API), REFRESH_SECONDS (default 60).
"""
import os
from decimal import ROUND_HALF_UP, Decimal

import kopf
import requests

BASE_URL = os.environ.get("COINGECKO_BASE_URL", "https://api.coingecko.com/api/v3").rstrip("/")
REFRESH_SECONDS = float(os.environ.get("REFRESH_SECONDS", "60"))


def usd_value(coin, amount):
    response = requests.get(f"{BASE_URL}/simple/price", params={"ids": coin, "vs_currencies": "usd"}, timeout=10)
    response.raise_for_status()
    price = Decimal(str(response.json()[coin]["usd"]))
    value = (Decimal(str(amount)) * price).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return f"${value}"


@kopf.on.create("crypto.tools", "v1", "cryptovaluecalculators")
def create_fn(spec, patch, **_):
    patch.metadata.annotations["value"] = usd_value(spec["coin"], spec["amount"])


@kopf.timer("crypto.tools", "v1", "cryptovaluecalculators", interval=REFRESH_SECONDS)
def refresh_fn(spec, patch, **_):
    patch.metadata.annotations["value"] = usd_value(spec["coin"], spec["amount"])
