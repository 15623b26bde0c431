"""ocsea: find, triage and refer online child sexual exploitation and abuse."""

from ocsea._env import configure_offline

configure_offline()

__version__ = "0.1.0"
