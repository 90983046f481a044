"""The Discord client: ``PaperBot`` and its command tree with the one app-command error handler.

With ``bot/__main__``/``bot/cli`` and ``cogs/``, the only code that imports discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.domain.admission import BUSY_MESSAGE, Admission, AdmissionPolicy, Ticket, Verdict, snowflake_seconds
from bot.domain.page_lists import PageLists
from bot.domain.shards import IdentifyPacer, format_shard_ids
from bot.errors import PaperbotError
from bot.gateway_reach import wait_until_reachable
from bot.health import HealthState
from bot.logging_context import set_context
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import WriteWait, wait_for_writes

log = logging.getLogger(__name__)

# Sources first: unloaded first on close, it hands the schedule's lease over before anything stops.
EXTENSIONS = (
    "cogs.sources",
    "cogs.papers",
    "cogs.digest",
    "cogs.follows",
    "cogs.library",
    "cogs.privacy",
    "cogs.admin",
    "cogs.meta",
)
# What the bot needs in a digest channel (checked again by /digest setup): the invite link asks for it.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    read_message_history=True,
    create_public_threads=True,
    send_messages_in_threads=True,
)
# Names as Discord's own UI shows them.
PERMISSION_NAMES = {"manage_guild": "Manage Server", "manage_channels": "Manage Channels"}
# Interaction callbacks for the busy answer: a private message (flags 64) that pings no one, or no
# autocomplete choices.
BUSY_REPLY_BODY = json.dumps(
    {"type": 4, "data": {"content": BUSY_MESSAGE, "flags": 64, "allowed_mentions": {"parse": []}}}
).encode()
BUSY_CHOICES_BODY = json.dumps({"type": 8, "data": {"choices": []}}).encode()
JSON_HEADERS = {"Content-Type": "application/json"}


def use_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py at another Discord (a loopback emulator in tests); nothing else changes."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


@contextlib.contextmanager
def endpoints(api_base: str, gateway_url: str) -> Iterator[None]:
    """``use_endpoints`` for a while: discord.py points back where it pointed before on exit."""
    before = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    use_endpoints(api_base, gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = before


# Set while an admitted interaction runs: hands its admission slot on early (see PaperTree._serve).
_release_slot: ContextVar[Callable[[], None] | None] = ContextVar("paperbot_release_slot", default=None)


def writes_may_wait(interaction: discord.Interaction[Any], budget: float) -> None:
    """Let the writes this interaction makes wait for a busy writer without losing the interaction:
    when a write cannot start at once, the interaction is deferred first ("thinking…", within
    Discord's 3 s), then the write waits up to ``budget`` seconds, else the member is told the
    database is busy and to try again. Reads never wait: they use the read connections."""

    async def defer() -> None:
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        release = _release_slot.get()
        if release is not None:
            release()

    wait_for_writes(WriteWait(defer, budget))


async def respond(interaction: discord.Interaction[Any], content: str | None = None, **kwargs: Any) -> None:
    """Answer an interaction whether or not it was deferred meanwhile (a write that had to wait)."""
    if content is not None:
        kwargs["content"] = content
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


def _set_log_context(interaction: discord.Interaction[Any]) -> str | None:
    """Every log line while handling ``interaction`` names its server, member and command."""
    command = interaction.command.qualified_name if interaction.command else None
    set_context(guild=interaction.guild_id, user=interaction.user.id, command=command)
    return command


def _set_raw_log_context(data: Any) -> None:
    """``_set_log_context`` from an INTERACTION_CREATE payload (no Interaction is built for it)."""
    user = (data.get("member") or {}).get("user") or data.get("user") or {}
    guild = data.get("guild_id")
    set_context(
        guild=int(guild) if guild else None,
        user=int(user["id"]) if "id" in user else None,
        command=_command_path(data.get("data") or {}),
    )


def _command_path(data: Any) -> str | None:
    """``papers search`` from an application command's data: its name and subcommand (group) names."""
    names = [data.get("name")]
    options = data.get("options") or []
    while options and options[0].get("type") in (1, 2):  # a subcommand (group) holds the next level
        names.append(options[0].get("name"))
        options = options[0].get("options") or []
    return " ".join(str(name) for name in names if name) or None


class PaperTree(app_commands.CommandTree["PaperBot"]):
    """One error handler for every app command, whether or not the interaction was answered; and
    admission control (bot/domain/admission.py): answered in time, or "busy" at once, never late."""

    def __init__(self, client: PaperBot, **options: Any) -> None:
        super().__init__(client, **options)
        self.admission = Admission()
        self._session: aiohttp.ClientSession | None = None
        self._tickets: dict[int, Ticket] = {}  # judged from the raw payload, to be served or queued
        self._refusals: set[asyncio.Task[None]] = set()

    def judging_raw_payloads(self, parse: Callable[[Any], None]) -> Callable[[Any], None]:
        """discord.py's INTERACTION_CREATE parser, behind admission: a command or autocomplete that
        will only be told busy (or dropped) is judged from the gateway payload itself (its id gives
        its age, its type the kind), so none of the Interaction, Member and User objects discord.py
        would build for it are built. Under overload most interactions are refused, and building
        them was a third of the work of refusing one."""

        def parse_interaction_create(data: Any) -> None:
            if data.get("type") not in (2, 4):  # buttons, menus, modals: discord.py's views
                parse(data)
                return
            kind = "autocomplete" if data["type"] == 4 else "command"
            snowflake = int(data["id"])
            ticket = self.admission.arrive(snowflake_seconds(snowflake), kind)
            if ticket.verdict in (Verdict.BUSY, Verdict.DROP):
                context = contextvars.copy_context()
                context.run(_set_raw_log_context, data)
                task = asyncio.get_running_loop().create_task(
                    self._refuse(snowflake, data["token"], kind, ticket), context=context
                )
                self._refusals.add(task)
                task.add_done_callback(self._refusals.discard)
                return
            self._tickets[snowflake] = ticket
            try:
                parse(data)  # hands the ticket on to _from_interaction
            finally:
                if self._tickets.pop(snowflake, None) is not None:  # never reached the tree
                    self.admission.withdraw(ticket)

        return parse_interaction_create

    async def _refuse(self, snowflake: int, token: str, kind: str, ticket: Ticket) -> None:
        if ticket.verdict is Verdict.BUSY and self.admission.time_left(ticket) > 0:
            await self._post_busy(snowflake, token, autocomplete=kind == "autocomplete")
        else:
            log.warning("interaction %s could not be answered in time; not answered", snowflake)

    def _from_interaction(self, interaction: discord.Interaction[PaperBot]) -> None:
        ticket = self._tickets.pop(interaction.id, None)
        if ticket is None:  # not judged from its payload (a test calling the tree directly)
            kind = "autocomplete" if interaction.type is discord.InteractionType.autocomplete else "command"
            ticket = self.admission.arrive(snowflake_seconds(interaction.id), kind)
        # The interaction's task starts with its log context (server, member, command), so even the
        # lines logged before the command runs (too late, busy) say what they are about; the
        # gateway's own task keeps its context.
        context = contextvars.copy_context()
        context.run(_set_log_context, interaction)
        self.client.loop.create_task(
            self._admitted(interaction, ticket), name="CommandTree-invoker", context=context
        )

    async def _admitted(self, interaction: discord.Interaction[PaperBot], ticket: Ticket) -> None:
        verdict = await self.admission.turn(ticket)
        if verdict is Verdict.SERVE:
            await self._serve(interaction, ticket)
        elif verdict is Verdict.BUSY and self.admission.time_left(ticket) > 0:
            await self._say_busy(interaction)
        else:  # even "busy" would arrive late (a stalled loop runs this task late): Discord would refuse it
            log.warning("interaction %s could not be answered in time; not answered", interaction.id)

    async def _serve(self, interaction: discord.Interaction[PaperBot], ticket: Ticket) -> None:
        """Run the command; one still unanswered when only "busy" can arrive in time is cut short
        and says so. Once answered (or deferred) it runs to the end, however long it takes."""
        task = asyncio.current_task()
        assert task is not None
        cut_short = False

        def watchdog() -> None:
            nonlocal cut_short
            if not interaction.response.is_done():
                cut_short = True
                task.cancel()

        timer = asyncio.get_running_loop().call_later(max(0.0, self.admission.time_left(ticket)), watchdog)
        finished = False

        def release_slot() -> None:
            # Answered (deferred) and about to wait for the writer: the slot and the service-time
            # estimate are about the first answer; a long wait must not starve everyone else.
            nonlocal finished
            if not finished:
                finished = True
                timer.cancel()
                self.admission.finish(ticket)

        _release_slot.set(release_slot)
        try:
            await self._call(interaction)
        except app_commands.AppCommandError as error:
            await self._dispatch_error(interaction, error)
        except asyncio.CancelledError:
            if not cut_short:
                raise
            task.uncancel()
            log.info("interaction %s was not answered in time: told busy", interaction.id)
            await self._say_busy(interaction)
        finally:
            release_slot()

    async def _say_busy(self, interaction: discord.Interaction[PaperBot]) -> None:
        """The quick answer to an interaction the bot cannot serve in time: one pre-encoded POST.

        Under overload these are most of the bot's requests, so they skip discord.py's webhook
        machinery (route objects, JSON encoding, per-webhook rate-limit locks: interaction
        callbacks are not rate limited) and reuse one keep-alive session."""
        autocomplete = interaction.type is discord.InteractionType.autocomplete
        await self._post_busy(interaction.id, interaction.token, autocomplete=autocomplete)

    async def _post_busy(self, interaction_id: int, token: str, *, autocomplete: bool) -> None:
        url = f"{discord.http.Route.BASE}/interactions/{interaction_id}/{token}/callback"
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with self._busy_session().post(
                url, data=BUSY_CHOICES_BODY if autocomplete else BUSY_REPLY_BODY, headers=JSON_HEADERS
            ) as response:
                if response.status >= 300:
                    log.info(
                        "the busy answer to interaction %s was refused (%s)", interaction_id, response.status
                    )
        except (aiohttp.ClientError, TimeoutError):
            log.info("the busy answer to interaction %s did not arrive", interaction_id)
        self.admission.observe_answer(loop.time() - started)

    def _busy_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def interaction_check(self, interaction: discord.Interaction[PaperBot]) -> bool:
        command = _set_log_context(interaction)
        if interaction.type is discord.InteractionType.application_command:
            log.info("command /%s", command)
            writes_may_wait(interaction, interaction.client.settings.delivery.write_wait_seconds)
        return True

    async def on_error(
        self, interaction: discord.Interaction[PaperBot], error: app_commands.AppCommandError
    ) -> None:
        await self.handle(interaction, error)

    @classmethod
    async def handle(cls, interaction: discord.Interaction[Any], error: BaseException) -> None:
        """Tell the user what went wrong: their mistake plainly, ours with an error reference.
        Views use it too, so buttons and menus answer like commands."""
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        message = cls._user_message(original)
        command = interaction.command
        if isinstance(original, app_commands.CheckFailure) and command and command.extras.get("owner_only"):
            # A server admin may well try it: say whose it is, not just "not allowed".
            message = (
                f"/{command.qualified_name} is for the bot's owner only (whoever runs this paperbot), "
                "not server admins: it changes the commands of every server the bot is in."
            )
        if message is None:
            reference = uuid.uuid4().hex[:8]
            log.error(
                "app command failed [ref %s] command=%s guild=%s channel=%s user=%s",
                reference,
                interaction.command.qualified_name if interaction.command else None,
                interaction.guild_id,
                interaction.channel_id,
                interaction.user.id,
                exc_info=original,
            )
            message = f"Sorry, something went wrong on our side. Error reference: `{reference}`."
        await cls.reply_privately(interaction, message)

    @staticmethod
    def _user_message(error: BaseException) -> str | None:
        """A friendly text for mistakes a user can fix; None for our own failures."""
        if isinstance(error, PaperbotError):
            return str(error)
        if isinstance(error, app_commands.MissingPermissions):
            needed = ", ".join(
                PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions
            )
            return f"You need the {needed} permission to do that."
        if isinstance(error, app_commands.NoPrivateMessage):
            return "That command only works inside a server."
        if isinstance(error, app_commands.CommandOnCooldown):
            return f"Slow down a little: try again in {error.retry_after:.0f} s."
        if isinstance(error, app_commands.CheckFailure):
            return "You are not allowed to use that command."
        if isinstance(error, app_commands.TransformerError):
            return f"{error.value!r} is not a valid value for that option."
        return None

    @staticmethod
    async def reply_privately(interaction: discord.Interaction[Any], message: str) -> None:
        try:
            if interaction.response.is_done():
                await interaction.followup.send(message, ephemeral=True)
            else:
                await interaction.response.send_message(message, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell user %s about an error (interaction expired?)", interaction.user.id)


class PaperBot(commands.AutoShardedBot):
    """Holds the services; loads the cogs. Never syncs the command tree on start.

    Runs the Discord shards the settings name (``--shard-count``/``--shards``), else every shard
    Discord recommends; several processes can split the shards between them."""

    def __init__(
        self, *, services: Services, settings: Settings, extensions: tuple[str, ...] = EXTENSIONS
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        plan = settings.shard_plan
        # No shard count: discord.py asks Discord how many shards to run, and runs them all here.
        sharding: dict[str, Any] = (
            {} if plan.count is None else {"shard_count": plan.count, "shard_ids": list(plan.ids)}
        )
        super().__init__(
            **sharding,
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=PaperTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.services = services
        self.settings = settings
        self.page_lists = PageLists(services.clock)  # what Previous/Next buttons show
        # Enough interactions in flight to keep every read connection busy, few enough to stay on time.
        assert isinstance(self.tree, PaperTree)
        self.tree.admission = Admission(AdmissionPolicy(slots=2 * settings.search.readers))
        parsers = self._connection.parsers  # the gateway looks parsers up in this very dict
        parsers["INTERACTION_CREATE"] = self.tree.judging_raw_payloads(parsers["INTERACTION_CREATE"])
        self._extensions = extensions
        self._identify_pacer: IdentifyPacer | None = None
        self._token_refused: discord.LoginFailure | None = None
        digest = settings.digest
        self.health = HealthState(
            tick_seconds=digest.tick_seconds if digest.scheduler else None, clock=services.clock
        )

    async def setup_hook(self) -> None:
        for extension in self._extensions:
            await self.load_extension(extension)

    async def launch_shards(self) -> None:
        # The session start limits are read before any shard connects: inside launch_shard
        # discord.py retries every failure every 5 s for ever, so a token refused there (reset since
        # login) was a loop of 401s (Discord bans a bot's IP over too many) instead of a stop.
        with contextlib.suppress(discord.GatewayNotFound):  # Discord is down: each shard's try asks again
            await self._identify_pacing()
        await super().launch_shards()

    async def launch_shard(self, gateway: yarl.URL, shard_id: int, *, initial: bool = False) -> None:
        if self._token_refused is not None:  # a shard's earlier try met a refused token: stop, not retry
            raise self._token_refused
        # discord.py would wait up to 180 s on an address that never answers, then log a traceback
        # without the address: reaching it first says what is wrong, once per failed try.
        await wait_until_reachable(
            str(gateway), answer_within=self.settings.gateway_connect_timeout_seconds, shard_id=shard_id
        )
        await super().launch_shard(gateway, shard_id, initial=initial)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """IDENTIFY as fast as Discord's max_concurrency allows (discord.py waits 5 s before every
        shard but the first): shards in different buckets start together."""
        pacer = await self._identify_pacing()
        delay = pacer.reserve(shard_id or 0, self.loop.time())
        if delay > 0:
            log.info("shard %s waits %.1f s to identify (Discord's max_concurrency)", shard_id, delay)
            await asyncio.sleep(delay)
        turns = self.services.identify_turns
        if turns is not None:  # other processes of this bot identify too: the store keeps the turns
            await turns.take((shard_id or 0) % pacer.max_concurrency)

    async def _identify_pacing(self) -> IdentifyPacer:
        """The IDENTIFY pacing of Discord's max_concurrency, read once; a 401 is discord.py's
        LoginFailure (as at login), remembered so that no shard tries again."""
        if self._identify_pacer is None:
            try:
                limits = await self.fetch_session_start_limits()
            except discord.GatewayNotFound as exc:
                cause = exc.__cause__
                if isinstance(cause, discord.HTTPException) and cause.status == 401:
                    self._token_refused = discord.LoginFailure("Improper token has been passed.")
                    raise self._token_refused from exc
                raise
            self._identify_pacer = IdentifyPacer(limits.max_concurrency)
        return self._identify_pacer

    def running_shards(self) -> str:
        """Which shards this process runs, for the log and the heartbeat: ``0-1 of 6``."""
        ids = tuple(sorted(self.shards)) or tuple(self.shard_ids or ())
        count = self.shard_count
        return f"{format_shard_ids(ids) or 'none yet'} of {count}" if count else "not connected yet"

    # The gateway's state, for the heartbeat (`paperbot health`).
    async def on_ready(self) -> None:
        self.health.gateway(connected=True)
        self.health.shards = self.running_shards()
        log.info("connected: shards %s", self.health.shards)

    async def on_resumed(self) -> None:
        self.health.gateway(connected=True)

    async def on_disconnect(self) -> None:
        self.health.gateway(connected=False)

    async def publish_commands(self, guild_id: int | None = None) -> list[str]:
        """Sync the command tree: to one server (instant, for testing) or globally."""
        target = discord.Object(guild_id) if guild_id is not None else None
        if target is not None:
            self.tree.copy_global_to(guild=target)
        try:
            synced = await self.tree.sync(guild=target)
        except (discord.Forbidden, discord.NotFound) as exc:
            if target is None:
                raise
            # The usual mistake when syncing to one server, and one sentence, not a traceback.
            why = exc.text or exc.response.reason
            raise PaperbotError(
                f"Discord refused the commands for server {guild_id} ({exc.status} {why}): "
                "the bot is not in that server, was invited without the applications.commands scope, or "
                "the id is not a server's. Invite it with the link /about shows (or the bot and "
                "applications.commands scopes) and sync again."
            ) from None
        return [command.name for command in synced]

    async def close(self) -> None:
        if isinstance(self.tree, PaperTree):
            await self.tree.close()
        await super().close()

    async def is_owner(self, user: discord.abc.User) -> bool:
        if user.id in self.settings.owner_ids:
            return True
        return await super().is_owner(user)
