"""One worker's link to Redis: room logs in one order for all, run streams, who is alive.

Every write goes through one ordered outbox, sent in pipelined batches: what this worker
says reaches Redis in the order it said it, and a burst (a class answering) costs one round
trip per batch, not one per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis.asyncio as redis

Message = dict[str, Any]
Handler = Callable[[Message], None]

HEARTBEAT_S = 2.0  # how often a worker says it is alive
ALIVE_S = 6  # a worker that has not said so for this long is gone
ROOM_LOG_LENGTH = 50_000  # a room's latest changes, enough for a worker to catch up from
BATCH = 500  # writes sent in one round trip

log = logging.getLogger("session_visualizer.bus")

# A room's next change: numbered (never below what the sender already applied, so a Redis
# that restarted empty goes on counting), logged for late workers, and published.
_APPEND_ROOM = """
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[4]) then
  redis.call('SET', KEYS[1], ARGV[4])
end
local seq = redis.call('INCR', KEYS[1])
local op = '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('ZADD', KEYS[2], seq, op)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[2]) - 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', KEYS[3], op)
return seq
"""
# A room's state as of change `seq`, unless a newer one is already kept.
_KEEP_STATE = """
if tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1') >= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'state', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""
# A run's next message: kept for subscribers that come later, numbered, and published.
_APPEND_RUN = """
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], '{"n":' .. n .. ',' .. string.sub(ARGV[1], 2))
return n
"""


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Bus:
    """Redis, as one worker uses it; every method runs on the worker's event loop."""

    def __init__(self, url: str, prefix: str, keep_s: float, worker: str | None = None) -> None:
        self.redis = redis.from_url(url, decode_responses=True)
        self.prefix, self.keep_s = prefix, int(max(keep_s, 60))
        self.worker = worker or new_worker_id()
        self._pubsub = self.redis.pubsub()
        self._handlers: dict[str, set[Handler]] = {}
        self._subscribed: dict[str, asyncio.Future[None]] = {}
        self._outbox: asyncio.Queue[tuple[Callable[[Any], Any], asyncio.Future[Any]]] = (
            asyncio.Queue()
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._ticks: list[Callable[[], Awaitable[None]]] = []
        self._append_room = self.redis.register_script(_APPEND_ROOM)
        self._keep_state = self.redis.register_script(_KEEP_STATE)
        self._append_run = self.redis.register_script(_APPEND_RUN)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def start(self) -> None:
        """Connect (raises when Redis cannot be reached), and start saying this worker lives."""
        await self.redis.ping()
        await self._pubsub.subscribe(self.key("hello"))  # never empty: the reader keeps reading
        self._tasks = [
            asyncio.create_task(self._read(), name="bus-read"),
            asyncio.create_task(self._send(), name="bus-send"),
            asyncio.create_task(self._beat(), name="bus-beat"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self.redis.delete(self.key("worker", self.worker))
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self.redis.aclose()

    def every_beat(self, tick: Callable[[], Awaitable[None]]) -> None:
        """Run `tick` after each heartbeat (checks for workers that went away)."""
        self._ticks.append(tick)

    # -- writing, in order ------------------------------------------------------------------

    def _post(self, write: Callable[[Any], Any]) -> asyncio.Future[Any]:
        """Queue one write (given the pipeline to add itself to); its result, when sent."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._outbox.put_nowait((write, done))
        return done

    async def _send(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for write, _ in batch:
                        queued = write(pipe)
                        if inspect.isawaitable(queued):  # a script queues itself in a coroutine
                            await queued
                    results = await pipe.execute(raise_on_error=False)
            except Exception as error:  # Redis is gone: every write of the batch fails
                results = [error] * len(batch)
            for (_, done), result in zip(batch, results, strict=True):
                if done.done():
                    continue
                if isinstance(result, Exception):
                    done.set_exception(result)
                else:
                    done.set_result(result)

    # -- rooms ------------------------------------------------------------------------------

    def append_room(self, code: str, op: Message, applied: int) -> asyncio.Future[Any]:
        """Number `op` after the room's last change and send it to every worker following it."""
        room = self.key("room", code)
        keys = [f"{room}:seq", f"{room}:log", room]
        args: list[str | int] = [json.dumps(op), ROOM_LOG_LENGTH, self.keep_s, applied]
        return self._post(lambda pipe: self._append_room(keys=keys, args=args, client=pipe))

    def keep_room_state(self, code: str, seq: int, state: Message) -> None:
        keys = [self.key("room", code, "state")]
        args: list[str | int] = [seq, json.dumps(state), self.keep_s]
        self._post(lambda pipe: self._keep_state(keys=keys, args=args, client=pipe))

    async def room_state(self, code: str) -> tuple[int, Message] | None:
        """The newest state a worker kept of the room, and the change it is as of."""
        kept = await self.redis.hgetall(self.key("room", code, "state"))
        if not kept:
            return None
        return int(kept["seq"]), json.loads(kept["state"])

    async def room_log(self, code: str, after: int) -> list[Message]:
        """The room's changes numbered above `after`, in order."""
        ops = await self.redis.zrangebyscore(self.key("room", code, "log"), f"({after}", "+inf")
        return [json.loads(str(op)) for op in ops]

    async def follow_room(self, code: str, handler: Handler) -> None:
        await self.subscribe(self.key("room", code), handler)

    async def unfollow_room(self, code: str, handler: Handler) -> None:
        await self.unsubscribe(self.key("room", code), handler)

    # -- runs -------------------------------------------------------------------------------

    def append_run(self, run_id: str, message: Message) -> None:
        keys = [self.key("run", run_id, "messages"), self.key("run", run_id)]
        args: list[str | int] = [json.dumps(message), self.keep_s]
        self._post(lambda pipe: self._append_run(keys=keys, args=args, client=pipe))

    async def follow_run(self, run_id: str) -> AsyncIterator[Message]:
        """A run's messages so far, then each new one, until its end (or never, if its worker
        died and nobody has said so yet: the caller sees the run failed, as it is told)."""
        news: asyncio.Queue[Message] = asyncio.Queue()
        channel = self.key("run", run_id)
        await self.subscribe(channel, news.put_nowait)
        try:
            sent = 0
            for text in await self.redis.lrange(self.key("run", run_id, "messages"), 0, -1):
                message = json.loads(text)
                sent += 1
                yield message
                if message["type"] == "end":
                    return
            while True:
                message = await news.get()
                if message.pop("n") <= sent:
                    continue  # already sent from the kept messages
                sent += 1
                yield message
                if message["type"] == "end":
                    return
        finally:
            await self.unsubscribe(channel, news.put_nowait)

    # -- subscriptions ----------------------------------------------------------------------

    async def subscribe(self, channel: str, handler: Handler) -> None:
        """Call `handler` with each message on `channel`, from the moment this returns."""
        handlers = self._handlers.setdefault(channel, set())
        handlers.add(handler)
        if channel not in self._subscribed:
            self._subscribed[channel] = asyncio.get_running_loop().create_future()
            await self._pubsub.subscribe(channel)
        await asyncio.shield(self._subscribed[channel])  # Redis confirmed: nothing is missed

    async def unsubscribe(self, channel: str, handler: Handler) -> None:
        handlers = self._handlers.get(channel, set())
        handlers.discard(handler)
        if not handlers and self._handlers.pop(channel, None) is not None:
            self._subscribed.pop(channel, None)
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # redis-py reconnects and subscribes again
                log.warning("Redis subscription: %s; retrying", error)
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            channel = message["channel"]
            if message["type"] == "subscribe":
                waiting = self._subscribed.get(channel)
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
            elif message["type"] == "message":
                data = json.loads(message["data"])
                for handler in list(self._handlers.get(channel, ())):
                    try:
                        handler(dict(data))
                    except Exception:  # one follower's bug must not stop the others
                        log.exception("handling a message on %s", channel)

    # -- presence ---------------------------------------------------------------------------

    async def alive(self, workers: set[str]) -> set[str]:
        """Which of these workers have said they live within the last ALIVE_S seconds."""
        if not workers:
            return set()
        ordered = sorted(workers)
        async with self.redis.pipeline(transaction=False) as pipe:
            for worker in ordered:
                pipe.exists(self.key("worker", worker))
            flags = await pipe.execute()
        return {worker for worker, flag in zip(ordered, flags, strict=True) if flag}

    async def _beat(self) -> None:
        while True:
            try:
                await self.redis.set(self.key("worker", self.worker), "1", ex=ALIVE_S)
                for tick in self._ticks:
                    await tick()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("Redis heartbeat: %s", error)
            await asyncio.sleep(HEARTBEAT_S)
