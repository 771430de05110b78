"""``JobFailed`` survives arq's result pickling and maps onto the envelope."""

from __future__ import annotations

import pickle

from arq.jobs import deserialize_result, serialize_result

from ipv6wgm.api import VALIDATION_ERROR
from ipv6wgm.jobs import JobFailed


class Special(JobFailed):
    """A plugin's own failure type keeps the signature and round-trips as itself."""


def _through_arq(exc: BaseException) -> BaseException:
    data = serialize_result("wireguard.apply_server", (1,), {}, 1, 0, False, exc, 0, 1, "ref", "q", "id")
    assert data is not None
    result = deserialize_result(data).result
    assert isinstance(result, BaseException)
    return result


def test_round_trip_keeps_every_field() -> None:
    original = JobFailed("configure", "BIRD rejected the configuration", 422, VALIDATION_ERROR,
                         {"field": "config", "bird_code": 8002})
    for copy in (pickle.loads(pickle.dumps(original)), _through_arq(original)):  # noqa: S301 - our own bytes
        assert type(copy) is JobFailed
        assert (copy.step, copy.message, copy.status, copy.code, copy.details) == (
            "configure", "BIRD rejected the configuration", 422, VALIDATION_ERROR,
            {"field": "config", "bird_code": 8002})
        assert str(copy) == str(original)


def test_cause_is_not_needed_to_unpickle() -> None:
    class Unpicklable(Exception):
        def __init__(self, a: str, b: str) -> None:
            super().__init__(a)

    try:
        try:
            raise Unpicklable("a", "b")
        except Unpicklable as inner:
            raise JobFailed("create interface", "wireguard-go not found") from inner
    except JobFailed as exc:
        copy = _through_arq(exc)
    assert isinstance(copy, JobFailed) and copy.step == "create interface"


def test_subclass_round_trips_as_itself() -> None:
    copy = _through_arq(Special("sync peers", "boom"))
    assert type(copy) is Special and copy.step == "sync peers" and copy.status == 503


def test_api_error_names_step_and_node() -> None:
    err = JobFailed("create interface", "no such file").api_error("gw1")
    assert err.status == 503 and err.code == "SERVICE_UNAVAILABLE"
    assert err.details == {"step": "create interface", "node_id": "gw1", "error": "no such file"}
    assert "gw1" in err.message and "create interface" in err.message
    err = JobFailed("configure", "BIRD rejected the configuration", 422, VALIDATION_ERROR,
                    {"field": "config", "message": "operator.conf:1:1 syntax error"}).api_error("gw1")
    assert (err.status, err.code, err.message) == (422, VALIDATION_ERROR, "BIRD rejected the configuration")
    assert err.details["field"] == "config" and err.details["step"] == "configure"
