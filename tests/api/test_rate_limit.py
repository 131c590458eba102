"""Each key has its rate: beyond it, 429 with Retry-After, and the other keys are not slowed."""

from __future__ import annotations

import pytest

from cordee.api.ratelimit import Rate, hit, parse_rate


def test_over_the_rate_a_key_gets_429_with_retry_after(settings, hotel, camping):
    settings.CORDEE_API_RATE = "3/min"
    assert [hotel.get("/api/v1/customers").status_code for _ in range(3)] == [200, 200, 200]
    refused = hotel.get("/api/v1/customers")
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/json")
    assert "Trop de requêtes" in refused.json()["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Writes count too, and the camping's key has its own counter.
    assert hotel.post("/api/v1/customers", {"last_name": "Durand"}).status_code == 429
    assert camping.get("/api/v1/customers").status_code == 200


def test_a_new_window_lets_the_key_in_again(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr("cordee.api.ratelimit.time.time", lambda: now[0])
    rate = Rate(requests=2, seconds=60)
    assert hit("t", rate) is None and hit("t", rate) is None
    wait = hit("t", rate)
    assert wait is not None and 0 < wait <= 60
    now[0] += wait
    assert hit("t", rate) is None


def test_zero_means_no_limit():
    assert all(hit("z", Rate(0, 60)) is None for _ in range(100))


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("600/min", Rate(600, 60)),
        ("10/s", Rate(10, 1)),
        ("5000/h", Rate(5000, 3600)),
        ("100", Rate(100, 60)),
    ],
)
def test_rate_setting_is_read(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["beaucoup", "10/jour", "-1/min"])
def test_a_wrong_rate_setting_is_an_error(text):
    with pytest.raises(ValueError, match="CORDEE_API_RATE"):
        parse_rate(text)
