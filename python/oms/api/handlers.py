"""Register a service implementation by the ``.proto`` descriptor, not generated servicers.

Requests arrive as bytes and are parsed here, so a malformed message is answered
INVALID_ARGUMENT (code ``MALFORMED``) with the service untouched, where grpcio's own
deserialization would give INTERNAL. Every ``oms.errors`` exception an implementation
raises becomes its status (``oms.api.status``); anything else is logged and INTERNAL.

An implementation has one method per RPC, snake_case: ``SubmitOrder`` ->
``submit_order(request, context)``; a server-streaming one is an async generator.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf import descriptor, message, message_factory

from oms.api.status import abort, abort_with
from oms.errors import OmsError

log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def generic_handler(
    service: descriptor.ServiceDescriptor, impl: object, max_bytes: int
) -> grpc.GenericRpcHandler:
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
    for method in service.methods:
        request_type = message_factory.GetMessageClass(method.input_type)
        response_type = message_factory.GetMessageClass(method.output_type)
        behavior = getattr(impl, snake(method.name))
        serialize = response_type.SerializeToString
        if method.server_streaming:
            handlers[method.name] = grpc.unary_stream_rpc_method_handler(
                _streaming(behavior, request_type, max_bytes), response_serializer=serialize
            )
        else:
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                _unary(behavior, request_type, max_bytes), response_serializer=serialize
            )
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


async def _parse(raw: bytes, request_type: type[message.Message], context: Context, max_bytes: int) -> Any:
    if len(raw) > max_bytes:
        await abort_with(
            context,
            grpc.StatusCode.INVALID_ARGUMENT,
            "MESSAGE_TOO_LARGE",
            f"request of {len(raw)} bytes; at most {max_bytes}",
            size=len(raw),
            limit=max_bytes,
        )
    try:
        return request_type.FromString(raw)
    except message.DecodeError as err:
        await abort_with(
            context,
            grpc.StatusCode.INVALID_ARGUMENT,
            "MALFORMED",
            f"not a valid {request_type.DESCRIPTOR.full_name}: {err}",
        )


def _unary(
    behavior: Any, request_type: type[message.Message], max_bytes: int
) -> Callable[[bytes, Context], Any]:
    async def handle(raw: bytes, context: Context) -> Any:
        request = await _parse(raw, request_type, context, max_bytes)
        try:
            return await behavior(request, context)
        except OmsError as err:
            await abort(context, err)
        except (grpc.aio.AbortError, grpc.RpcError):
            raise
        except Exception:
            log.exception("%s failed", request_type.DESCRIPTOR.full_name)
            await abort_with(
                context, grpc.StatusCode.INTERNAL, "INTERNAL", "internal error (see the server log)"
            )

    return handle


def _streaming(
    behavior: Any, request_type: type[message.Message], max_bytes: int
) -> Callable[[bytes, Context], AsyncIterator[Any]]:
    async def handle(raw: bytes, context: Context) -> AsyncIterator[Any]:
        request = await _parse(raw, request_type, context, max_bytes)
        try:
            async for item in behavior(request, context):
                yield item
        except OmsError as err:
            await abort(context, err)
        except (grpc.aio.AbortError, grpc.RpcError):
            raise
        except Exception:
            log.exception("%s stream failed", request_type.DESCRIPTOR.full_name)
            await abort_with(
                context, grpc.StatusCode.INTERNAL, "INTERNAL", "internal error (see the server log)"
            )

    return handle
