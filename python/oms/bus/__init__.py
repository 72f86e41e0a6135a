"""Events to NATS JetStream: the embedded server and the publisher (docs/bus.md)."""
