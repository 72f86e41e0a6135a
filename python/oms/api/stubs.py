"""Client stubs made from the ``.proto`` descriptors, as the server's handlers are
(``oms.api.handlers``): ``ServiceStub(channel, "OrderService").SubmitOrder(request)``.

We generate only the messages (``*_pb2``), not grpcio's ``*_pb2_grpc`` modules, whose
servicer base classes are placeholders for generated servers, which nothing here uses.
Works on sync and ``grpc.aio`` channels alike.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor, message_factory

from oms.v1 import admin_pb2, events_pb2, market_data_pb2, orders_pb2, portfolio_pb2

SERVICES: dict[str, descriptor.ServiceDescriptor] = {
    service.name: service
    for module in (orders_pb2, portfolio_pb2, market_data_pb2, events_pb2, admin_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
}


class ServiceStub:
    """One callable attribute per RPC, named as in the ``.proto``."""

    def __init__(self, channel: Any, service: str) -> None:
        self.service = SERVICES[service]
        for method in self.service.methods:
            request = message_factory.GetMessageClass(method.input_type)
            response = message_factory.GetMessageClass(method.output_type)
            make = channel.unary_stream if method.server_streaming else channel.unary_unary
            path = f"/{self.service.full_name}/{method.name}"
            setattr(self, method.name, make(path, request.SerializeToString, response.FromString))

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"{self.service.full_name} has no RPC {name!r}")
