"""The gRPC API: server (``oms.api.server``), its services, security and conversions."""
