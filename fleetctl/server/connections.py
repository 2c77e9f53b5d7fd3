"""The waitress server with bounded connections and a deadline for receiving each request.

waitress's `channel_timeout` closes a connection only after that long without any byte, so a client
that trickles its request (a byte every few seconds) holds its connection forever; enough of them
reach `connection_limit` and every other client waits. Here each connection gets `request_timeout`
seconds from the first byte of a request to its last (headers and body); past that it is closed.
Requests waitress refuses itself (malformed, oversized headers or body) get problem+json like the app's.
"""

from __future__ import annotations

import time

CONNECTION_LIMIT = 1000
REQUEST_TIMEOUT = 30.0


def _guarded_channel(base):
    """An HTTPChannel subclass that remembers when its current, incomplete request began."""

    class GuardedChannel(base):
        request_started: float | None = None

        def received(self, data):
            before = self.request
            result = super().received(data)
            if self.request is None:
                self.request_started = None  # nothing partial left: every request is complete
            elif self.request is not before or self.request_started is None:
                self.request_started = time.time()
            return result

    return GuardedChannel


def create_server(app, host: str, port: int, threads: int, connection_limit: int = CONNECTION_LIMIT,
                  request_timeout: float = REQUEST_TIMEOUT, **options):
    """A waitress server that accepts at most `connection_limit` connections at once and drops a
    connection whose request is not fully received within `request_timeout` seconds."""
    import waitress  # here, not at the top: `fleetctl` imports this module for its defaults

    from fleetctl.server.waitress_errors import ProblemErrorTask

    # Maintenance (the idle and slow-request sweep) runs every second instead of every 30.
    server = waitress.create_server(app, host=host, port=port, threads=threads,
                                    connection_limit=connection_limit, cleanup_interval=1, **options)
    server.channel_class = _guarded_channel(server.channel_class)
    server.channel_class.error_task_class = ProblemErrorTask
    idle_sweep = server.maintenance

    def maintenance(now: float) -> None:
        idle_sweep(now)
        cutoff = now - request_timeout
        for channel in list(server.active_channels.values()):
            started = getattr(channel, "request_started", None)
            if started is not None and started < cutoff and not channel.requests:
                channel.will_close = True

    server.maintenance = maintenance
    return server
