"""Settings: one TOML file plus environment variables, validated once and passed down.

Precedence: environment (`SMPM_...`, nested keys joined by `__`, e.g. `SMPM_REMEDY__PASSWORD`)
over the file over the defaults. Secrets (passwords, tokens, client secrets) are accepted only from
the environment or from a file named by `*_file`; a secret written into the TOML file is refused,
because config files end up in repositories and tickets. Nothing else in smpm reads os.environ.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connector.codec import entity_schema
from connector.errors import ConfigurationError
from connector.http import HttpOptions
from mappings.loader import MappingError, load_mapping
from procedures.availability.config import AvailabilityConfig
from procedures.capacity.config import CapacityConfig
from procedures.capacity.overview import OverviewRow, parse_csv
from procedures.config import ProceduresConfig
from procedures.directory import ContactsConfig, RosterConfig
from procedures.event.config import EventConfig
from procedures.incident.config import IncidentConfig
from procedures.problem.config import ProblemConfig
from procedures.slm.config import SlmConfig
from smpm.intake.config import HooksSection, IntakeSection, ServeSection, lease_problem
from smpm.notify import NotifySection
from smpm.schedule.config import ScheduleSection
from smpm.settings_env import unparsable_variable, variables, walk
from smpm.store import check_url
from smpm.toml_lines import file_line, read_text

SECRET_KEYS = frozenset(
    {
        "password",
        "auth_string",
        "client_secret",
        "token",
        "api_key",
        "chat_webhook_url",
        "secret",
        "previous_secret",
    }
)
DEFAULT_CONFIG = Path("smpm.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpSection(_Section):
    connect_timeout: PositiveFloat = 5.0
    read_timeout: PositiveFloat = 60.0
    attempts: PositiveInt = 5
    backoff: PositiveFloat = 0.5
    max_backoff: PositiveFloat = 30.0
    max_retry_after: PositiveFloat = 120.0  # the longest Retry-After honoured between attempts
    verify_tls: bool = True
    ca_bundle: Path | None = None

    @model_validator(mode="after")
    def _bundle_exists(self) -> HttpSection:
        if self.ca_bundle is not None and not self.ca_bundle.is_file():
            raise ValueError(f"ca_bundle {str(self.ca_bundle)!r} is not a readable file")
        return self

    def options(self, **overrides: Any) -> HttpOptions:
        return HttpOptions(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            attempts=self.attempts,
            backoff=self.backoff,
            max_backoff=self.max_backoff,
            max_retry_after=self.max_retry_after,
            verify_tls=self.verify_tls,
            ca_bundle=self.ca_bundle,
            **overrides,
        )


class RemedySection(_Section):
    """Where the AR System REST API is and who smpm logs in as."""

    url: AnyHttpUrl | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    auth_string: SecretStr | None = None
    page_size: int = Field(default=1000, ge=1, le=100_000)
    http: HttpSection = Field(default_factory=HttpSection)

    @field_validator("url")
    @classmethod
    def _no_userinfo(cls, url: AnyHttpUrl | None) -> AnyHttpUrl | None:
        return _refuse_userinfo(url, "remedy")

    def password_value(self) -> SecretStr:
        return _secret(self.password, self.password_file, "remedy.password")


class ServiceNowSection(_Section):
    """Where the ServiceNow instance is and how smpm authenticates (basic or OAuth 2)."""

    url: AnyHttpUrl | None = None
    auth: Literal["basic", "oauth_password", "oauth_client_credentials"] = "basic"
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    page_size: int = Field(default=1000, ge=1, le=10_000)
    batch_size: int = Field(default=50, ge=0, le=500)  # 0: no Batch API
    sla_warning_percent: float = Field(default=50.0, gt=0, le=100)
    http: HttpSection = Field(default_factory=HttpSection)

    @field_validator("url")
    @classmethod
    def _no_userinfo(cls, url: AnyHttpUrl | None) -> AnyHttpUrl | None:
        return _refuse_userinfo(url, "servicenow")

    def password_value(self) -> SecretStr:
        return _secret(self.password, self.password_file, "servicenow.password")

    def client_secret_value(self) -> SecretStr:
        return _secret(self.client_secret, self.client_secret_file, "servicenow.client_secret")


def _refuse_userinfo(url: AnyHttpUrl | None, section: str) -> AnyHttpUrl | None:
    """An ITSM URL without `user:password@`. The password would sit in the config file that
    secrets are kept out of, requests would send it as HTTP Basic beside smpm's own login, and
    every message and log line that shows the URL would carry it: the account is told in
    `username`, the password in the environment or a file."""
    if url is not None and (url.username or url.password):
        env = f"SMPM_{section.upper()}__PASSWORD"
        raise ValueError(
            "the URL may not carry a user name or password (user:password@); set "
            f"{section}.username, and export {env} or set {section}.password_file"
        )
    return url


class DatabaseSection(_Section):
    # Kept out of repr: a PostgreSQL URL from the environment may carry a password.
    url: str = Field(default="sqlite:///var/smpm.db", repr=False)

    @field_validator("url")
    @classmethod
    def _a_store_url(cls, url: str) -> str:
        check_url(url)  # before any command opens (and so creates) the store
        return url


class LoggingSection(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = Field(default=False, alias="json")


class CapacitySection(CapacityConfig):
    """`[capacity]`, with the rows of `overview_csv` read once, when the settings load."""

    _resolved: CapacityConfig | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _read_overview_csv(self) -> CapacitySection:
        if self.overview_csv is not None:
            rows = read_overview_csv(self.overview_csv, self.overview)
            self._resolved = CapacityConfig.model_validate(
                {**self.model_dump(exclude={"overview"}), "overview": [*self.overview, *rows]}
            )
        return self

    def resolved(self) -> CapacityConfig:
        """As the procedures see it: one overview of the settings' rows and the file's."""
        return self._resolved or self


def read_overview_csv(path: Path, existing: list[OverviewRow]) -> list[OverviewRow]:
    """The capacity tracking overview file; a bad row names the file, the line and the problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets save a byte-order mark
    except OSError as exc:
        raise ValueError(f"overview_csv: cannot read {str(path)!r}: {exc.strerror}") from None
    return parse_csv(text, str(path), existing)


class ReportsSection(_Section):
    """Where `smpm review` writes the Event Review and Outage Review reports (CSV and HTML)."""

    folder: Path = Path("var/reports")


class Settings(BaseSettings):
    """Everything smpm is told, from `smpm.toml` (or --config) and `SMPM_*` variables."""

    model_config = SettingsConfigDict(
        env_prefix="SMPM_", env_nested_delimiter="__", extra="forbid", populate_by_name=True
    )

    platform: Literal["remedy", "servicenow"] = "remedy"
    remedy: RemedySection = Field(default_factory=RemedySection)
    servicenow: ServiceNowSection = Field(default_factory=ServiceNowSection)
    mapping: dict[str, Any] = Field(default_factory=dict)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    logging: LoggingSection = Field(default_factory=LoggingSection)
    contacts: ContactsConfig = Field(default_factory=ContactsConfig)
    roster: RosterConfig = Field(default_factory=RosterConfig)
    incident: IncidentConfig = Field(default_factory=IncidentConfig)
    event: EventConfig = Field(default_factory=EventConfig)
    capacity: CapacitySection = Field(default_factory=CapacitySection)
    availability: AvailabilityConfig = Field(default_factory=AvailabilityConfig)
    slm: SlmConfig = Field(default_factory=SlmConfig)
    problem: ProblemConfig = Field(default_factory=ProblemConfig)
    reports: ReportsSection = Field(default_factory=ReportsSection)
    notify: NotifySection = Field(default_factory=NotifySection)
    serve: ServeSection = Field(default_factory=ServeSection)
    intake: IntakeSection = Field(default_factory=IntakeSection)
    hooks: HooksSection = Field(default_factory=HooksSection)
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    source: str = Field(default="(defaults)", exclude=True)

    @field_validator("intake")
    @classmethod
    def _lease_outlasts_a_request(
        cls, intake: IntakeSection, info: ValidationInfo
    ) -> IntakeSection:
        """A lease must outlast one request to the ITSM the workers use (`lease_problem`)."""
        platform = info.data.get("platform")
        face = info.data.get(platform) if isinstance(platform, str) else None
        if isinstance(face, RemedySection | ServiceNowSection):
            problem = lease_problem(intake, face.http.options(), f"{platform}.http")
            if problem is not None:
                raise ValueError(problem)
        return intake

    def procedures(self) -> ProceduresConfig:
        """The procedures' part of the settings, as they receive it."""
        return ProceduresConfig(
            contacts=self.contacts,
            roster=self.roster,
            incident=self.incident,
            event=self.event,
            capacity=self.capacity.resolved(),
            availability=self.availability,
            slm=self.slm,
            problem=self.problem,
        )

    def check_hooks(self) -> None:
        """Every method of [hooks.*] has its secret: what `smpm serve` needs before it accepts
        a request. Only the commands that verify webhooks ask; the others run without them."""
        missing = [
            f"{self.where('hooks', endpoint)}: hooks.{endpoint}: method {method!r} needs a "
            f"{key}; export SMPM_HOOKS__{endpoint.upper()}__{key.upper()}"
            for endpoint, method, key in self.hooks.missing()
        ]
        if missing:
            raise ConfigurationError("; ".join(missing))

    def where(self, *loc: str | int) -> str:
        """`file:line` of a key, or the variable that set it, for errors found after loading
        (an unknown group, say)."""
        path = Path(self.source)
        return _origin(self.source, read_config_file(path) if path.is_file() else {}, loc)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init kwargs; the environment must win over them.
        return (env_settings, init_settings)


def _secret(value: SecretStr | None, path: Path | None, key: str) -> SecretStr:
    if value is not None:
        return value
    if path is not None:
        try:
            return SecretStr(path.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigurationError(f"{key}_file: cannot read {path}: {exc.strerror}") from None
    env = "SMPM_" + key.upper().replace(".", "__")
    raise ConfigurationError(f"{key}: not set; export {env} or set {key}_file in the config file")


def _refuse_secrets(data: Mapping[str, Any], source: str, path: tuple[str, ...] = ()) -> None:
    for key, value in data.items():
        here = (*path, key)
        if key in SECRET_KEYS and path[:1] != ("mapping",):
            env = "SMPM_" + "__".join(here).upper()
            raise ConfigurationError(
                f"{file_line(source, here)}: {'.'.join(here)}: secrets may not be written in the "
                "config file; "
                f"export {env} or set {key}_file to a file only smpm can read"
            )
        if here == ("database", "url") and isinstance(value, str) and _has_password(value):
            raise ConfigurationError(
                f"{file_line(source, here)}: database.url: secrets may not be written in the "
                "config file; export SMPM_DATABASE__URL, or leave the password out and let "
                "the driver find it (PGPASSWORD, ~/.pgpass)"
            )
        if isinstance(value, Mapping):
            _refuse_secrets(value, source, here)


def _has_password(url: str) -> bool:
    try:
        return make_url(url).password is not None
    except ArgumentError:  # not a URL at all: the engine says so when it is used
        return False


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: {exc}") from None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Build the one Settings object; every problem is a ConfigurationError naming the key.

    `path` None means `$SMPM_CONFIG`, else `./smpm.toml` when it exists, else defaults only.
    """
    if path is None and os.environ.get("SMPM_CONFIG"):
        path = Path(os.environ["SMPM_CONFIG"])
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    data = read_config_file(path) if path is not None else {}
    source = str(path) if path is not None else "(defaults)"
    _refuse_secrets(data, source)
    try:
        settings = Settings(**{**data, **overrides, "source": source})
    except SettingsError as exc:  # a variable holding JSON that does not parse
        raise ConfigurationError(unparsable_variable(str(exc), Settings)) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        where = _origin(source, data, err["loc"])
        raise ConfigurationError(f"{where}: {key}: {message}") from None
    if settings.mapping:
        _check_mapping(settings)
    return settings


def _check_mapping(settings: Settings) -> None:
    """The [mapping] overrides, merged into the platform's built-in mapping and checked now,
    as every other setting is, rather than when a command first opens the connector (after
    it may have written to the store). A mistake names the override's line or variable: the
    built-in mapping is valid on its own, so even a problem that shows in one of its tables
    (a field pointed at another field's enum table) is the override's."""
    source = f"{settings.source} [mapping]"
    try:
        load_mapping(settings.platform, entity_schema(), settings.mapping, source)
    except MappingError as exc:
        if exc.override is None:
            raise ConfigurationError(str(exc)) from None
        key = ".".join(("mapping", *exc.override))
        shown = key if ".".join(exc.override) == exc.key else f"{key}: {exc.key}"
        where = settings.where("mapping", *exc.override)
        raise ConfigurationError(f"{where}: {shown}: {exc.problem}") from None


def _origin(source: str, data: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    """Where the value at `loc` came from: `file:line`, or the environment variable that set it
    (the environment wins over the file, so a line of the file may hold a correct value for
    the same key), or both when a table mixes keys from each."""
    from_env, env_value = walk(EnvSettingsSource(Settings)(), loc)
    if not from_env:
        return file_line(source, loc)
    names = variables(loc)
    in_file, _ = walk(data, loc)
    told = f"environment variable{'s' if len(names) > 1 else ''} {', '.join(names)}"
    if isinstance(env_value, Mapping) and in_file:  # a table with keys from both
        return f"{told} and {file_line(source, loc)}"
    return told
