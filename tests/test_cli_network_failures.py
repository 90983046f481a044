"""A network failure at `paperbot run` or `sync` start is one line naming Discord's API and what went
wrong, exit 1 (systemd restarts on 1, and the network may come back): never a traceback, a
library's own text (an IP and port, a class name) or an empty "error: ", and never the token."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest
from typer.testing import CliRunner

import bot.runner
from bot.cli import app

TOKEN = "Tok3n-secret"


def invoke(tmp_path: Path, command: str, api_base: str) -> tuple[int, str]:
    env = {"DISCORD_TOKEN": TOKEN, "DISCORD_API_BASE": api_base, "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9"}
    result = CliRunner().invoke(app, [command, "--db", str(tmp_path / "x.db")], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: what these tests exist to catch
    return result.exit_code, result.stdout + result.stderr


@contextmanager
def answering(answer: Callable[[socket.socket], None]) -> Iterator[int]:
    """A local TCP server that reads each request and then ``answer``s it; its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the test is over
            with connection:
                connection.recv(65536)
                answer(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (close alone does not)
        listener.close()
        thread.join()


def hang_up(connection: socket.socket) -> None:
    """Close without a word (a proxy or load balancer dropping the request)."""


def plain_http(connection: socket.socket) -> None:
    """Plain HTTP where TLS was expected (a wrong port, a proxy that does not speak TLS)."""
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def said_once(code: int, said: str) -> str:
    """The one error line (`run` logs its start above it), checked to be the last, exit 1."""
    lines = said.strip().splitlines()
    [line] = [line for line in lines if line.startswith("error: ")]
    assert code == 1 and line == lines[-1] and "Traceback" not in said and TOKEN not in said
    return line


@pytest.mark.parametrize("command", ["run", "sync"])
@pytest.mark.parametrize(
    ("answer", "scheme", "said"),
    [
        (hang_up, "http", "cannot reach {api} (the connection closed before an answer)"),
        (plain_http, "https", "cannot connect to {api} (TLS failed: wrong version number)"),
    ],
    ids=["closed-before-an-answer", "tls"],
)
def test_a_local_server_failing_the_call_is_one_line(
    tmp_path: Path, command: str, answer: Callable[[socket.socket], None], scheme: str, said: str
) -> None:
    with answering(answer) as port:
        api_base = f"{scheme}://127.0.0.1:{port}/api/v10"
        code, output = invoke(tmp_path, command, api_base)
    expected = said.format(api=f"Discord's API at {api_base}")
    assert said_once(code, output) == f"error: {expected}: check DISCORD_API_BASE and the network"


def _certificate_refused() -> ssl.SSLCertVerificationError:
    refused = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    refused.verify_message = "self-signed certificate"
    return refused


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (TimeoutError(), "no answer in time"),
        (aiohttp.ServerTimeoutError("Timeout on reading data from socket"), "no answer in time"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "Name or service not known"),
        (_certificate_refused(), "its TLS certificate was not accepted: self-signed certificate"),
        (aiohttp.ClientPayloadError("Response payload is not completed"), "the answer was cut off"),
        (OSError(113, "No route to host"), "No route to host"),
    ],
    ids=["timeout", "read-timeout", "dns", "certificate", "cut-off", "no-route"],
)
def test_every_network_failure_at_start_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException, reason: str
) -> None:
    """Failures a local server cannot stage without waiting (a timeout) or a certificate authority."""

    async def failing(settings: object) -> None:
        await asyncio.sleep(0)
        raise failure

    monkeypatch.setattr(bot.runner, "run_bot", failing)
    code, said = invoke(tmp_path, "run", "https://discord.example/api/v10")
    assert said_once(code, said) == (
        f"error: cannot reach Discord's API at https://discord.example/api/v10 ({reason}): "
        "check DISCORD_API_BASE and the network"
    )
