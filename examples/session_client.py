"""The README's worked session example: a dozen lines of httpx that honour Retry-After.

python -c "from examples.session_client import get_product; print(get_product(URL).json())"
"""

from __future__ import annotations

import time

import httpx


def get_product(base_url: str, product_id: str = "42", attempts: int = 4) -> httpx.Response:
    """GET a product, retrying a 429 or 5xx after its Retry-After seconds (else 1 s)."""
    with httpx.Client(base_url=base_url, headers={"X-API-Key": "alana_test_key"}) as http:
        for attempt in range(attempts):
            response = http.get(f"/api/v1/products/{product_id}", timeout=10)
            if response.status_code != 429 and response.status_code < 500:
                return response
            if attempt < attempts - 1:
                time.sleep(float(response.headers.get("Retry-After", "1")))
        return response
