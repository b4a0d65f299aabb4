"""Alerts: what changed at the sites between consecutive periods of a run, for those who must act (`derive`)."""
