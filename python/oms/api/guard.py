"""The server interceptor every RPC passes: TLS 1.3, bearer token, scope, rate limit.

grpcio offers no way to set a minimum TLS version for its handshake, so the check is
here: the connection's negotiated version (``ssl_tls_version`` in the auth context)
must be TLS 1.3, or the RPC is refused (UNAUTHENTICATED, code ``TLS_VERSION``) before
anything else runs. Health checks and reflection need no token but do need TLS 1.3;
every other service needs a token (services outside ``oms.v1``: the ``trade`` scope).

Then ``authorization: Bearer <token>``: unknown -> UNAUTHENTICATED, a scope the method
needs and the token lacks -> PERMISSION_DENIED, a client over its request rate ->
RESOURCE_EXHAUSTED with a ``RetryInfo``. Each client (token name) has its own bucket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc

from oms.api.status import abort_with
from oms.api.tokens import TokenInfo, TokenStore
from oms.ratelimit import TokenBucket

Context = grpc.aio.ServicerContext[Any, Any]
Code = grpc.StatusCode
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"  # generic in the stubs only

#: The scope each oms.v1 method needs: reads need ``read``, order entry ``trade``.
_READ_METHODS = {"GetOrder", "ListOrders"}
#: The only services open without a token (TLS 1.3 still required).
PUBLIC_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/")


def required_scope(method: str) -> str | None:
    """``/oms.v1.OrderService/SubmitOrder`` -> "trade"; None for health and reflection.
    Any other service (``ApiServer``'s extra handlers: a strategy's own) needs ``trade``:
    a service added to the server must not be open to anyone who can reach the port."""
    if method.startswith(PUBLIC_SERVICES):
        return None
    if not method.startswith("/oms.v1."):
        return "trade"
    service, _, name = method[len("/oms.v1.") :].partition("/")
    if service == "AdminService":
        return "admin"
    if service == "OrderService" and name not in _READ_METHODS:
        return "trade"
    return "read"


@dataclass(frozen=True)
class GuardConfig:
    rate_per_s: float = 2_000.0  # RPCs per second per client (a batch counts once)
    burst: float = 4_000.0
    require_tls13: bool = True  # False only for a plaintext test server (never by default)


class Guard(grpc.aio.ServerInterceptor):
    """Wraps each method's handler once (cached by method) with the checks."""

    def __init__(self, tokens: TokenStore, config: GuardConfig = GuardConfig()) -> None:
        self.tokens = tokens
        self.config = config
        self._buckets: dict[str, TokenBucket] = {}
        self._handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method: str = handler_call_details.method
        cached = self._handlers.get(method)
        if cached is not None:
            return cached
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        wrapped = self._wrap(handler, required_scope(method))
        self._handlers[method] = wrapped
        return wrapped

    async def check(self, context: Context, scope: str | None) -> None:
        """Abort the RPC unless the connection and the caller may make it."""
        if self.config.require_tls13:
            version = list(context.auth_context().get("ssl_tls_version", ()))
            if version != [b"TLSv1.3"]:
                got = version[0].decode() if version else "no TLS"
                await abort_with(
                    context, Code.UNAUTHENTICATED, "TLS_VERSION", f"TLS 1.3 required, connection has {got}"
                )
        if scope is None:
            return
        client = await self._authenticate(context)
        if scope not in client.scopes:
            await abort_with(
                context,
                Code.PERMISSION_DENIED,
                "SCOPE",
                f"token {client.name!r} lacks the {scope!r} scope",
                scope=scope,
            )
        bucket = self._bucket(client)
        if not bucket.try_acquire():
            wait = bucket.wait_time()
            await abort_with(
                context,
                Code.RESOURCE_EXHAUSTED,
                "CLIENT_RATE_LIMITED",
                f"{client.name!r} is over {bucket.rate:g} requests/s; retry in {wait:.3f} s",
                retry_after=wait,
            )

    async def _authenticate(self, context: Context) -> TokenInfo:
        token = None
        for key, value in context.invocation_metadata() or ():
            if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
                token = value[len("Bearer ") :]
        info = None if token is None else self.tokens.verify(token)
        if info is None:
            why = "missing bearer token" if token is None else "unknown or revoked token"
            await abort_with(context, Code.UNAUTHENTICATED, "UNAUTHENTICATED", why)
        assert info is not None
        return info

    def _bucket(self, client: TokenInfo) -> TokenBucket:
        """Per client name; rebuilt when the token's own limits change."""
        rate = client.rate_per_s or self.config.rate_per_s
        burst = client.burst or max(1.0, min(self.config.burst, rate * 2))
        bucket = self._buckets.get(client.name)
        if bucket is None or (bucket.rate, bucket.capacity) != (rate, burst):
            bucket = self._buckets[client.name] = TokenBucket(rate, burst)
        return bucket

    def _wrap(
        self, handler: grpc.RpcMethodHandler[Any, Any], scope: str | None
    ) -> grpc.RpcMethodHandler[Any, Any]:
        h: Any = handler
        kinds = {
            "unary_unary": grpc.unary_unary_rpc_method_handler,
            "unary_stream": grpc.unary_stream_rpc_method_handler,
            "stream_unary": grpc.stream_unary_rpc_method_handler,
            "stream_stream": grpc.stream_stream_rpc_method_handler,
        }
        for kind, make in kinds.items():
            behavior = getattr(h, kind)
            if behavior is None:
                continue
            streaming = kind.endswith("_stream")
            guarded = self._guard_stream(behavior, scope) if streaming else self._guard_unary(behavior, scope)
            return make(
                guarded,
                request_deserializer=h.request_deserializer,
                response_serializer=h.response_serializer,
            )
        return handler

    def _guard_unary(self, behavior: Any, scope: str | None) -> Callable[[Any, Context], Awaitable[Any]]:
        async def guarded(request: Any, context: Context) -> Any:
            await self.check(context, scope)
            return await behavior(request, context)

        return guarded

    def _guard_stream(self, behavior: Any, scope: str | None) -> Callable[[Any, Context], AsyncIterator[Any]]:
        async def guarded(request: Any, context: Context) -> AsyncIterator[Any]:
            await self.check(context, scope)
            result = behavior(request, context)
            if hasattr(result, "__aiter__"):
                async for item in result:
                    yield item
            else:
                await result

        return guarded
