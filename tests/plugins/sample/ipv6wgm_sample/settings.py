"""Settings of the sample plugin (``IPV6WGM_SAMPLE_*``), read lazily like every plugin's.

Both exist for the test suite: the opt-in crons of ``tests/core/test_crons.py`` and the metric
file the monitoring tests write to drive alert rules.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class SampleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPV6WGM_SAMPLE_", extra="ignore")

    #: Interval (s) of the two opt-in crons ``node_tick`` and ``cluster_tick``; unset: no crons.
    cron_every: int | None = None
    #: File holding the number emitted as ``sample.value``; unset: no metric.
    metric_file: Path | None = None
    #: File the ``sample.file`` backup contributor carries (backup tests); unset: it carries nothing.
    backup_file: Path | None = None


@lru_cache(maxsize=1)
def get_settings() -> SampleSettings:
    return SampleSettings()
