"""The CLI's plumbing: the error boundary, `--json` on every command, and the per-call state."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from typer import _click
from typer._click.globals import get_current_context
from typer._coercion import RuntimeParam, build_runtime_param
from typer.core import TyperCommand, TyperGroup

from fleetctl.cli.helptext import PlainHelp, bad_value
from fleetctl.cli.pipes import pipe_closed
from fleetctl.errors import ExitCode, FleetError, Unreachable

PANEL_ORDER = ("Primitives", "Agents", "Admin", "Server")  # the panels of `fleetctl --help`, in order
JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]


def with_json(func: Callable) -> Callable:
    """Give a command function a `--json` flag that switches the output layer to JSON."""
    sig = inspect.signature(func, eval_str=True)
    if "json_" in sig.parameters:
        return func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs.pop("json_", False):
            get_current_context().meta["fleet.json"] = True
        return func(*args, **kwargs)

    flag = inspect.Parameter("json_", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonFlag)
    wrapper.__signature__ = sig.replace(parameters=[*sig.parameters.values(), flag])
    wrapper.__annotations__ = {p.name: p.annotation for p in wrapper.__signature__.parameters.values()}
    return wrapper


@dataclass(frozen=True)
class DeferredCoercion(RuntimeParam):
    """Typer's coercion of one parameter, built only when a value needs it. Typer builds a pydantic
    TypeAdapter for every parameter of a run, which imports pydantic (a third of `fleetctl whoami`'s
    start-up); a missing value (handled before this) and text for a text parameter come out unchanged
    from that adapter, so they skip it."""

    def _coerce_value(self, value: Any, param: Any, ctx: _click.Context) -> Any:
        if isinstance(value, str) and self.annotation is str and self.parameter_info.parser is None:
            return value
        param._runtime_param = typer_coercion = build_runtime_param(param.type_descriptor)
        return typer_coercion._coerce_value(value, param, ctx)


class DeferCoercion:
    """Gives each Typer parameter of a command or group (help and completion options too) a
    DeferredCoercion until Typer's own is needed."""

    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        params = super().get_params(ctx)
        for param in params:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is not None and getattr(param, "_runtime_param", False) is None:
                param._runtime_param = DeferredCoercion(parameter_info=descriptor.parameter_info,
                                                        annotation=descriptor.annotation)
        return params


class FleetGroup(DeferCoercion, PlainHelp, TyperGroup):
    """The root group: turns a FleetError or a usage error into one line on stderr and its exit code."""

    def make_context(self, info_name: str | None, args: list[str], parent: _click.Context | None = None,
                     **extra: Any) -> _click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _click.exceptions.UsageError as err:  # a bad global option
            usage_error(err)
            raise
        except BrokenPipeError:  # `fleetctl --help | head -1`
            pipe_closed()

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            pipe_closed()
        except Unreachable as err:
            fail(f"{err.detail}{unreachable_hint(err)}", err.exit_code, ctx)
        except FleetError as err:
            fail(err.detail, err.exit_code, ctx)
        except _click.exceptions.UsageError as err:
            usage_error(err)
            raise
        except typer.Abort as err:
            if isinstance(err.__context__, KeyboardInterrupt):  # Ctrl-C at a prompt
                fail("interrupted", ExitCode.INTERRUPTED)
            raise
        except (typer.Exit, _click.exceptions.ClickException):
            raise
        except KeyboardInterrupt:
            fail("interrupted", ExitCode.INTERRUPTED)
        except Exception as exc:  # the last boundary: one line, a traceback only with --debug
            if ctx.meta.get("fleet.debug"):
                raise
            if isinstance(exc, UnicodeEncodeError) and exc.reason == "surrogates not allowed":
                fail(f"an argument is not valid UTF-8 text: {exc.object!r}", ExitCode.USAGE, ctx)
            fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for a traceback)",
                 ExitCode.ERROR, ctx)


    def list_commands(self, ctx: _click.Context) -> list[str]:
        """Commands in the order of their help panels (Primitives first), registration order within one."""
        names = super().list_commands(ctx)
        rank = {panel: n for n, panel in enumerate(PANEL_ORDER)}
        return sorted(names, key=lambda name: rank.get(getattr(self.commands[name], "rich_help_panel", None),
                                                       len(PANEL_ORDER)))


class FleetSubGroup(DeferCoercion, PlainHelp, TyperGroup):
    """A command group below the root (plain metavars, help reflowed to the terminal)."""


class FleetCommand(DeferCoercion, PlainHelp, TyperCommand):
    """A command (plain metavars, help reflowed to the terminal)."""


def unreachable_hint(err: Unreachable) -> str:
    """What to check when the server cannot be reached, after the error's own line."""
    cause = err.__cause__
    if isinstance(cause, ConnectionRefusedError):
        return ("; nothing listens there: start it with `fleetctl serve`, or point --url, FLEET_URL or the "
                "profile at the right server (`fleetctl profile list`)")
    if isinstance(cause, TimeoutError):
        return "; no answer in time: raise --timeout (env FLEET_TIMEOUT) or check the server"
    if cause is not None and type(cause).__name__ == "gaierror":
        return "; unknown host: check --url, FLEET_URL or the profile (`fleetctl profile list`)"
    return "; check --url, FLEET_URL or the profile (`fleetctl profile list`)"


def usage_error(err: _click.exceptions.UsageError) -> None:
    """A parser error as one line with a pointer to the command's help (exit 2); help itself passes."""
    if isinstance(err, _click.exceptions.NoArgsIsHelpError):
        return
    where = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
    message = bad_value(err) or err.format_message()
    fail(" ".join(message.split()) + where, err.exit_code)


QUOTED = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")  # a repr()'d value in an error detail


@contextlib.contextmanager
def in_flag_terms(**flags: str) -> Iterator[None]:
    """The server's errors name API fields (`base_version`); inside this block they name the command's flags
    instead (`in_flag_terms(base_version="--base-version")`). Quoted values are left as they are."""
    try:
        yield
    except FleetError as err:
        parts = QUOTED.split(err.detail)
        for n in range(0, len(parts), 2):
            for name, flag in flags.items():
                parts[n] = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", flag, parts[n])
        err.detail = "".join(parts)
        raise


def fail(message: str, code: int, ctx: _click.Context | None = None) -> None:
    """Print `fleetctl: error: MESSAGE` on stderr and exit with `code`."""
    if ctx is not None and ctx.meta.get("fleet.debug"):
        import traceback

        traceback.print_exc()
    print(f"fleetctl: error: {message}", file=sys.stderr)
    raise typer.Exit(int(code))


class FleetTyper(typer.Typer):
    """A Typer whose commands all accept `--json` after their arguments."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("rich_markup_mode", "rich")
        kwargs.setdefault("cls", FleetSubGroup)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("cls", FleetCommand)
        decorate = super().command(*args, **kwargs)
        return lambda func: decorate(with_json(func))


@dataclass
class State:
    """Global options of one invocation."""

    url: str | None = None
    token: str | None = None
    profile: str | None = None
    _client: Any = field(default=None, repr=False)

    def settings(self):
        from fleetctl import config

        return config.resolve(self.url, self.token, self.profile)

    def client(self):
        """The HTTP client for the resolved URL and token (built once per invocation)."""
        if self._client is None:
            from fleetctl.client import Client

            s = self.settings()
            self._client = Client(s.url, s.token)
        return self._client


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def client(ctx: typer.Context):
    return state(ctx).client()


def json_mode(ctx: typer.Context | None) -> bool:
    if ctx is not None and ctx.meta.get("fleet.json"):
        return True
    return os.environ.get("FLEET_OUTPUT", "").lower() == "json"
