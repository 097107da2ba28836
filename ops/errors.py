"""The failures `ops` reports: one line the user can act on, exit code 1."""


class OpsError(Exception):
    """A failure the user can act on; the CLI prints its message on one line and exits 1."""


class PromotionRefused(OpsError):
    """A promotion that must not happen; nothing has been written."""
