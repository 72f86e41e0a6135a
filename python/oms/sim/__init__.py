"""Local exchange simulators (paper mode): they speak each venue's real protocol so
the official SDKs and our connectors talk to them unchanged. See docs/simulator.md."""
