"""Whose fault it is: the local caller (`LocalProtocolError`) or the remote peer (`RemoteProtocolError`).

As in h11: a `LocalProtocolError` means this process misused the API (time went backwards, a
node was started twice) and is a bug to fix; a `RemoteProtocolError` means a peer sent bytes we
refuse, which the Driver counts and drops. Neither ever leaves a Node half-updated.
"""


class ProtocolError(Exception):
    """Base of every error the protocol core raises on purpose."""


class LocalProtocolError(ProtocolError):
    """The caller misused the API. The node's state is unchanged."""


class RemoteProtocolError(ProtocolError):
    """A peer sent something we refuse (malformed, oversized, unknown). No state was changed."""


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and what was expected."""
