"""How the Argo CD dashboard is reached."""

from settings.base import DnsName, Settings


class DashboardSettings(Settings):
    host: DnsName | None = None
    """The dashboard's host name; also Argo CD's external URL (needed by SSO)."""
