"""Settings: from the environment (`PBC_*`) or a TOML config file, checked when read.

A wrong or missing setting stops pbc with a message that names the setting and says how to fix it, rather than
failing later somewhere deep in a pipeline. The environment wins over the file. The config file is the one named
by `PBC_CONFIG`, else `pbc.toml` in the working folder if there is one.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pbc.errors import SettingsError

Engine = Literal["duckdb", "pyspark"]
ENGINES: tuple[str, ...] = ("duckdb", "pyspark")


def config_file() -> Path | None:
    """The config file in force, if any; a `PBC_CONFIG` naming a missing file is an error."""
    named = os.environ.get("PBC_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsError(f"PBC_CONFIG names {path}, which is not a file: fix the path or unset PBC_CONFIG")
        return path
    local = Path("pbc.toml")
    return local if local.is_file() else None


class Settings(BaseSettings):
    """Where pbc keeps its data and how it computes.

    Field names map to environment variables with the `PBC_` prefix (`home` is `PBC_HOME`) and to keys of the
    same name in the config file.
    """

    model_config = SettingsConfigDict(env_prefix="PBC_", extra="forbid", frozen=True)

    home: Path = Field(default=Path("var"), description="data folder: warehouse, keys, logs")
    engine: Engine = Field(default="duckdb", description="analytical engine: duckdb (embedded) or pyspark")
    pseudonymisation_key_file: Path | None = Field(
        default=None, description="key for hashing NHS numbers; default HOME/keys/pseudonymisation.key"
    )
    encryption_key_file: Path | None = Field(
        default=None, description="key for the encrypted NHS numbers; default HOME/keys/encryption.key"
    )
    spark_master: str = Field(default="local[2]", description="Spark master URL for the pyspark engine")
    spark_driver_memory: str = Field(default="4g", description="Spark driver memory for the pyspark engine")
    duckdb_threads: int | None = Field(default=None, ge=1, description="DuckDB threads; default all cores")
    duckdb_memory_limit: str | None = Field(default=None, description="DuckDB memory limit, e.g. 6GB")
    ingest_workers: int = Field(
        default=2, ge=1, le=64, description="processes checking extracts in a big ingest run (300 MB of files or more)"
    )
    freeze_months_after: int = Field(
        default=2, ge=0, le=12, description="SUS freeze: activity month M freezes in month M + this many months"
    )
    freeze_day: int = Field(
        default=20, ge=1, le=28, description="SUS freeze: the day of that month the freeze falls on"
    )

    @field_validator("engine", mode="before")
    @classmethod
    def _lower_engine(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then the config file."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @cached_property
    def warehouse_dir(self) -> Path:
        """Where the Parquet warehouse lives."""
        return self.home / "warehouse"

    @cached_property
    def keys_dir(self) -> Path:
        """Where generated keys live: inside PBC_HOME but outside the warehouse."""
        return self.home / "keys"

    def key_file(self, purpose: Literal["pseudonymisation", "encryption"]) -> Path:
        """The key file for a purpose, as configured or in the default place."""
        chosen = self.pseudonymisation_key_file if purpose == "pseudonymisation" else self.encryption_key_file
        return chosen if chosen is not None else self.keys_dir / f"{purpose}.key"


def _explain(error: ValidationError) -> str:
    lines = ["pbc settings are not valid:"]
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "?"
        env = f"PBC_{name.upper()}"
        given = item.get("input")
        if item["type"] == "extra_forbidden":
            lines.append(f"  {name}: not a pbc setting (check the spelling in {config_file()})")
            continue
        hint = f"set {env} in the environment or `{name} = ...` in pbc.toml"
        if name == "engine":
            hint = f"set {env} to one of {', '.join(ENGINES)} (duckdb is the default)"
        lines.append(f"  {env}={given!r}: {item['msg']}; {hint}")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read and check the settings, turning validation errors into one readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(_explain(error)) from None
